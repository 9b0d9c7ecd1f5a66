from portico.tickets.views import board, portal

app_name = "tickets"
urlpatterns = portal.urlpatterns + board.urlpatterns
