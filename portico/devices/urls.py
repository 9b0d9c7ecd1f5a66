app_name = "devices"
urlpatterns: list = []
