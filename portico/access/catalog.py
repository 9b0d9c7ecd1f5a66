"""The catalog of end-user permissions (PERM-1 … PERM-3) and the actions they allow on devices.

A permission is a short code stored on roles and on memberships (direct permissions). Codes are
data: the catalog is the only place that lists them, so forms, the API and the policy agree.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class OsFamily(models.TextChoices):
    WINDOWS = "windows", _("Windows")
    MAC = "mac", _("Mac")
    LINUX = "linux", _("Linux")


class DeviceAction(models.TextChoices):
    """What an end user may do with an assigned device (PERM-1, PERM-2)."""

    REMOTE_CONTROL = "remote_control", _("Remote control")
    USER_CLI = "user_cli", _("User command line")
    SYSTEM_CLI = "system_cli", _("System command line")
    RESTORE = "restore", _("Restore files")


CONNECTION_ACTIONS = (DeviceAction.REMOTE_CONTROL, DeviceAction.USER_CLI, DeviceAction.SYSTEM_CLI)

# The connections master switch (PERM-1): without it no per-OS connection permission counts.
CONNECTIONS = "connections"
BACKUP_RESTORE = "backup.restore"
TICKETS_OWN = "tickets.own"
TICKETS_ORGANIZATION = "tickets.organization"


def connection_code(action: str, os_family: str) -> str:
    return f"{action}.{os_family}"


def _catalog() -> dict[str, str]:
    codes: dict[str, str] = {CONNECTIONS: str(_("Connections"))}
    for os_family in OsFamily:
        for action in CONNECTION_ACTIONS:
            codes[connection_code(action, os_family)] = f"{action.label} · {os_family.label}"
    codes[BACKUP_RESTORE] = str(_("Backup: restore files"))
    codes[TICKETS_OWN] = str(_("Ticketing: own tickets"))
    codes[TICKETS_ORGANIZATION] = str(_("Ticketing: organization-wide"))
    return codes


ALL_CODES: frozenset[str] = frozenset(
    [CONNECTIONS, BACKUP_RESTORE, TICKETS_OWN, TICKETS_ORGANIZATION]
    + [connection_code(a, o) for o in OsFamily.values for a in [a.value for a in CONNECTION_ACTIONS]]
)


def label(code: str) -> str:
    return _catalog().get(code, code)


def allows_on_device(codes: frozenset[str] | set[str], action: str, os_family: str) -> bool:
    """Do these effective permissions allow `action` on a device of `os_family`? (PERM-1, PERM-2)"""
    if action == DeviceAction.RESTORE:
        return BACKUP_RESTORE in codes
    if action in CONNECTION_ACTIONS:
        return CONNECTIONS in codes and connection_code(action, os_family) in codes
    return False


def os_families_allowing(codes: frozenset[str] | set[str], action: str) -> list[str]:
    return [os for os in OsFamily.values if allows_on_device(codes, action, os)]


def ticket_scope(codes: frozenset[str] | set[str]) -> str:
    """PERM-3: "organization", "own" or "" (off); the widest grant wins (PERM-5)."""
    if TICKETS_ORGANIZATION in codes:
        return "organization"
    if TICKETS_OWN in codes:
        return "own"
    return ""
