from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "portico.tickets"
    label = "tickets"
