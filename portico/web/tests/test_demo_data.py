"""The demo data loads once and shows tickets the way the rules say (TK-2, TK-6)."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from portico.access import policy
from portico.access.policy import Action
from portico.identity.models import Membership
from portico.tickets.models import Ticket


@pytest.mark.django_db
def test_demo_loads_once_with_tickets_in_reach_of_the_right_people():
    call_command("load_demo")
    call_command("load_demo")  # a second run changes nothing
    maria = Membership.objects.get(person__email="maria.silva@contoso-dental.example")  # IT lead: organization-wide
    lucas = Membership.objects.get(person__email="lucas.souza@contoso-dental.example")  # own tickets only
    colleagues = policy.restrict(Ticket.objects.all(), maria, Action.VIEW).exclude(requester=maria)
    assert colleagues.filter(requester=lucas).exists()
    assert set(policy.restrict(Ticket.objects.all(), lucas, Action.VIEW).values_list("requester", flat=True)) == {lucas.pk}
    support = Membership.objects.get(person__email="support@northwind.example")
    assert policy.restrict(Ticket.objects.all(), support, Action.VIEW).exists()
    assert Ticket.objects.filter(comments__internal=True).exists()
