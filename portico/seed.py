"""Builders for people and places, shared by the demo data and the tests.

They write directly, as a data fixture does; product code changes state through services.
"""

from __future__ import annotations

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from allauth.mfa.utils import decrypt

from portico.identity.models import Membership, MembershipKind, Person
from portico.tenancy.models import Organization, Partner


def partner(name: str, **fields) -> Partner:
    return Partner.objects.create(name=name, **fields)


def organization(of: Partner, name: str) -> Organization:
    return Organization.objects.create(partner=of, name=name)


def person(email: str, password: str | None = None, *, totp_secret: str | None = "", **fields) -> Person:
    """A person with a verified email; with a TOTP authenticator unless `totp_secret` is None."""
    someone = Person.objects.filter(email=email).first()
    if someone is None:
        someone = Person.objects.create_user(email=email, password=password, **fields)
        EmailAddress.objects.create(user=someone, email=email, verified=True, primary=True)
    if totp_secret is not None and not Authenticator.objects.filter(user=someone, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(someone, totp_secret or generate_totp_secret())
    return someone


def totp_secret(someone: Person) -> str | None:
    authenticator = Authenticator.objects.filter(user=someone, type=Authenticator.Type.TOTP).first()
    return decrypt(authenticator.data["secret"]) if authenticator else None


def staff(someone: Person, of: Partner, role: str, **fields) -> Membership:
    return Membership.objects.create(person=someone, partner=of, kind=MembershipKind.STAFF, staff_role=role, **fields)


def end_user(someone: Person, org: Organization | None = None, *, of: Partner | None = None, **fields) -> Membership:
    """An end user at home in `org`; pass `all_organizations=True` for devices of every organization.

    With `of` (a partner) instead of `org`: an all-organizations end user at home in the partner's
    first organization.
    """
    if org is None:
        org = Organization.objects.filter(partner=of).order_by("pk").first()
        if org is None:
            raise ValueError("An end user needs a home organization; the partner has none.")
        fields.setdefault("all_organizations", True)
    return Membership.objects.create(
        person=someone, partner=org.partner, kind=MembershipKind.END_USER, organization=org, **fields
    )


def customer_user(someone: Person, org: Organization, **fields) -> Membership:
    return Membership.objects.create(
        person=someone, partner=org.partner, kind=MembershipKind.CUSTOMER, organization=org, **fields
    )


def device(org: Organization, name: str, os_family: str = "windows", **fields):
    from portico.devices.models import Device

    return Device.objects.create(partner_id=org.partner_id, organization=org, name=name, os_family=os_family, **fields)


def assign(member: Membership, *devices) -> None:
    from portico.devices.models import DeviceAssignment

    for d in devices:
        DeviceAssignment.objects.get_or_create(membership=member, device=d)


def role(of: Partner, name: str, *codes: str, description: str = ""):
    from portico.access.models import EndUserRole, Grant

    made = EndUserRole.objects.create(partner=of, name=name, description=description)
    Grant.objects.bulk_create([Grant(role=made, code=code) for code in codes])
    return made


def give_roles(member: Membership, *roles) -> None:
    from portico.access.models import RoleAssignment

    for r in roles:
        RoleAssignment.objects.get_or_create(membership=member, role=r)


def grant(member: Membership, *codes: str) -> None:
    from portico.access.models import Grant

    for code in codes:
        Grant.objects.get_or_create(membership=member, code=code)


def group(of: Partner, name: str, organizations=(), managers=(), description: str = ""):
    from portico.tenancy.models import Group

    made = Group.objects.create(partner=of, name=name, description=description)
    made.organizations.set(organizations)
    made.managers.set(managers)
    return made


def ticket(requester: Membership, subject: str, description: str = "", **fields):
    """A ticket as if `requester` had opened it, without notices or audit (tests and demo data)."""
    from portico.tickets.models import Ticket

    description = description or subject
    return Ticket.objects.create(
        partner_id=requester.partner_id, organization_id=requester.organization_id, requester=requester,
        subject=subject, description=description, search_text=f"{subject}\n{description}", **fields,
    )


def comment(ticket, author: Membership, body: str, *, internal: bool = False):
    """A comment as if `author` had written it, without notices or audit (tests and demo data)."""
    from portico.tickets.models import TicketComment

    person = author.person
    if not internal:
        ticket.search_text = f"{ticket.search_text}\n{body}"
        ticket.save(update_fields=["search_text"])
    return TicketComment.objects.create(
        ticket=ticket, author=author, author_name=f"{person.first_name} {person.last_name}".strip() or person.email,
        body=body, internal=internal,
    )


def plan(of: Partner, name: str, plan_type: str = "backup", price: str = "3.50", **fields):
    from portico.saas.models import Plan

    return Plan.objects.create(partner=of, name=name, plan_type=plan_type, price=price, **fields)


def subscription(org: Organization, on_plan, *, paid_seats: int = 50, storage_gib: int = 500, admin=None, **fields):
    """A SaaS backup subscription of `org`, written directly (tests and demo data)."""
    from portico.saas.models import Subscription

    fields.setdefault("contact_email", f"it@{org.name.lower().replace(' ', '-')}.test")
    fields.setdefault("country", org.partner.country)
    return Subscription.objects.create(
        organization=org, partner_id=org.partner_id, plan=on_plan, paid_seats=paid_seats,
        storage_quota_bytes=storage_gib * 1024**3, admin=admin, **fields,
    )


def account(org: Organization, address: str, product_type: str = "email", *, sections=(), **fields):
    """A backed-up account of `org` with its sections' last results: `sections` holds
    (section, last_result, item_count, bytes) tuples, last backed up when it was added."""
    from django.utils import timezone

    from portico.saas.models import Account, AccountSection

    fields.setdefault("email_kind", "mailbox" if product_type == "email" else "")
    fields.setdefault("external_id", f"{product_type}-{address}")
    fields.setdefault("added_at", timezone.now())
    made = Account.objects.create(
        partner_id=org.partner_id, organization=org, address=address, product_type=product_type, **fields
    )
    AccountSection.objects.bulk_create(
        AccountSection(
            account=made, section=section, added_at=made.added_at, last_result=result,
            last_backup_at=None if result == "never" else made.added_at, item_count=items, bytes=size,
        )
        for section, result, items, size in sections
    )
    return made
