from portico.tickets.views import attachments, board, portal

app_name = "tickets"
urlpatterns = portal.urlpatterns + board.urlpatterns + attachments.urlpatterns
