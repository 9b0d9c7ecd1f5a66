from portico.tickets.views import attachments, board, mailbox, portal

app_name = "tickets"
urlpatterns = portal.urlpatterns + board.urlpatterns + attachments.urlpatterns + mailbox.urlpatterns
