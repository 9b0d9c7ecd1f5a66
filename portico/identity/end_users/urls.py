app_name = "end_users"
urlpatterns: list = []
