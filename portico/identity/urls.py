from django.urls import path

from portico.identity import views

app_name = "identity"
urlpatterns = [
    path("accounts/pick/", views.pick, name="pick"),
    path("accounts/mfa-setup/", views.mfa_setup, name="mfa_setup"),
    path("accounts/sms/setup/", views.sms_setup, name="sms_setup"),
    path("accounts/sms/verify/", views.sms_verify, name="sms_verify"),
    path("accounts/tokens/", views.tokens, name="tokens"),
    path("accounts/tokens/<int:pk>/revoke/", views.revoke_token, name="revoke_token"),
    path("invitations/<str:token>/", views.accept_invitation, name="accept_invitation"),
    path("i18n/language/", views.set_language, name="set_language"),
    path("console/people/", views.people, name="people"),
    path("console/people/invite/", views.invite, name="invite"),
    path("console/people/<int:pk>/enabled/", views.toggle_enabled, name="toggle_enabled"),
    path("console/people/<int:pk>/reset-password/", views.reset_password, name="reset_password"),
]
