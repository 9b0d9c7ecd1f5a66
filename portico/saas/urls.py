from django.urls import path

from portico.saas.views import accounts, client_login, organizations

app_name = "saas"
urlpatterns = [
    path("console/organizations/", organizations.organization_list, name="organizations"),
    path("console/organizations/new/", organizations.organization_new, name="new_organization"),
    path("console/organizations/<int:pk>/", organizations.organization_detail, name="organization"),
    path("console/organizations/<int:pk>/credentials/", organizations.organization_credentials, name="credentials"),
    path("console/organizations/<int:pk>/reset-password/", organizations.organization_reset_password, name="reset_password"),
    path("console/organizations/<int:pk>/log-in-as-client/", client_login.log_in_as_client, name="log_in_as_client"),
    path("customer/end-client-login/", client_login.end_client_login, name="end_client_login"),
    path("console/accounts/", accounts.account_list, name="accounts"),
    path("console/accounts/<int:pk>/", accounts.account_detail, name="account"),
]
