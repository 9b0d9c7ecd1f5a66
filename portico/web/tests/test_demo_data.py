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


@pytest.mark.django_db
def test_the_demo_agent_enrols_into_a_demo_organization_and_reaches_a_demo_end_user(tmp_path, capsys):
    import json

    from django.core.management.base import CommandError

    from portico.access.catalog import DeviceAction
    from portico.remote import services

    call_command("load_demo")
    state = tmp_path / "state.json"
    with pytest.raises(CommandError):
        call_command("demo_agent", "enrolled", str(state))  # nothing enrolled yet
    capsys.readouterr()
    call_command("demo_agent", "token")
    token = capsys.readouterr().out.strip()
    device, secret = services.enrol(services.Enrolment(token, "demo-host", "linux"))
    state.write_text(json.dumps({"server": "http://127.0.0.1:8000", "device_id": device.pk, "credential": secret}))
    call_command("demo_agent", "enrolled", str(state))
    call_command("demo_agent", "assign", str(state))
    maria = Membership.objects.get(person__email="maria.silva@contoso-dental.example")
    assert policy.can(maria, DeviceAction.USER_CLI, device) and policy.can(maria, DeviceAction.SYSTEM_CLI, device)
    services.revoke_credential(Membership.objects.get(person__email="owner@northwind.example"), device)
    with pytest.raises(CommandError):
        call_command("demo_agent", "enrolled", str(state))  # enrolled again at the next start
