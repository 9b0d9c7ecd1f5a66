"""What the agent reports about its device. Every probe is best effort: a missing tool or an odd
system gives an empty answer, never an exception, so the control loop keeps running."""

from __future__ import annotations

import ipaddress
import json
import logging
import platform
import socket
import subprocess

from portico_agent import __version__

log = logging.getLogger(__name__)

_OS_FAMILIES = {"Linux": "linux", "Windows": "windows", "Darwin": "mac"}
# Session types of someone at the machine, as opposed to a remote or background session.
_LOCAL_SESSION_TYPES = ("x11", "wayland", "mir", "tty")


def hostname() -> str:
    return socket.gethostname()


def os_family() -> str:
    system = platform.system()
    return _OS_FAMILIES.get(system, system.lower())


def os_version() -> str:
    system = platform.system()
    if system == "Linux":
        pretty = _os_release().get("PRETTY_NAME")
        return pretty or f"Linux {platform.release()}"
    if system == "Darwin":
        return f"macOS {platform.mac_ver()[0]}".strip()
    if system == "Windows":
        release, version, _, _ = platform.win32_ver()
        return f"Windows {release} ({version})" if version else f"Windows {release}"
    return f"{system} {platform.release()}".strip()


def _os_release() -> dict[str, str]:
    # platform.freedesktop_os_release() needs Python 3.10; the agent supports 3.9.
    for path in ("/etc/os-release", "/usr/lib/os-release"):
        try:
            with open(path, encoding="utf-8") as f:
                lines = f.read().splitlines()
        except OSError:
            continue
        fields = {}
        for line in lines:
            key, sep, value = line.partition("=")
            if sep and not key.startswith("#"):
                fields[key.strip()] = value.strip().strip("\"'")
        return fields
    return {}


def _run(*command: str) -> str | None:
    """A command's standard output, or None if it is missing, fails or hangs."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def logged_in_user() -> str | None:
    system = platform.system()
    if system == "Linux":
        return _linux_console_user()
    if system == "Darwin":
        # The owner of /dev/console is whoever sits at the Mac; root while the login window shows.
        owner = (_run("stat", "-f", "%Su", "/dev/console") or "").strip()
        return owner if owner and owner != "root" else None
    return None


def _linux_console_user() -> str | None:
    listing = _run("loginctl", "list-sessions", "--no-legend")
    if listing is None:
        # No systemd-logind: `who` lists sessions in login order, the console's usually first.
        return _who_user()
    # logind knows which sessions are local; when it sees none active, nobody sits at the machine.
    return _loginctl_user(listing)


def _loginctl_user(listing: str) -> str | None:
    """The user of the active local graphical or console session according to systemd-logind."""
    candidates = []
    for line in listing.splitlines():
        fields = line.split()
        if not fields:
            continue
        shown = _run(
            "loginctl", "show-session", fields[0], "-p", "Name", "-p", "Active", "-p", "Remote",
            "-p", "Class", "-p", "Type",
        )
        if shown is None:
            continue
        props = dict(prop.partition("=")[::2] for prop in shown.splitlines() if "=" in prop)
        if props.get("Active") != "yes" or props.get("Remote") == "yes" or props.get("Class") != "user":
            continue
        if props.get("Type") in _LOCAL_SESSION_TYPES and props.get("Name"):
            candidates.append((props["Type"] == "tty", props["Name"]))
    # A graphical session wins over a text console when both are active.
    return min(candidates)[1] if candidates else None


def _who_user() -> str | None:
    for line in (_run("who") or "").splitlines():
        fields = line.split()
        if fields:
            return fields[0]
    return None


def ip_addresses() -> list[str]:
    """Addresses others may reach this device at: neither loopback nor link-local."""
    found = _ip_json_addresses() if platform.system() == "Linux" else None
    if found is None:
        found = _routed_addresses()
    usable = []
    for text in found:
        try:
            address = ipaddress.ip_address(text)
        except ValueError:
            continue
        if address.is_loopback or address.is_link_local or address.is_unspecified:
            continue
        if text not in usable:
            usable.append(text)
    return usable


def _ip_json_addresses() -> list[str] | None:
    output = _run("ip", "-j", "addr")
    if output is None:
        return None
    try:
        interfaces = json.loads(output)
        return [
            info["local"]
            for interface in interfaces
            for info in interface.get("addr_info", [])
            if isinstance(info, dict) and isinstance(info.get("local"), str)
        ]
    except (ValueError, TypeError, AttributeError):
        return None


def _routed_addresses() -> list[str]:
    """The source address the system would pick to reach the internet, per address family.
    Connecting a UDP socket sends nothing; it only asks the routing table."""
    found = []
    for family, target in ((socket.AF_INET, "192.0.2.1"), (socket.AF_INET6, "2001:db8::1")):
        try:
            with socket.socket(family, socket.SOCK_DGRAM) as s:
                s.connect((target, 9))
                found.append(s.getsockname()[0])
        except OSError:
            continue
    return found


def collect() -> dict[str, object]:
    """The inventory message, as the protocol names its fields."""
    return {
        "type": "inventory",
        "hostname": _safely(hostname, ""),
        "os_family": _safely(os_family, ""),
        "os_version": _safely(os_version, ""),
        "logged_in_user": _safely(logged_in_user, None),
        "ip_addresses": _safely(ip_addresses, []),
        "agent_version": __version__,
    }


def _safely(probe, fallback):
    try:
        return probe()
    except Exception:
        log.debug("inventory probe %s failed", probe.__name__, exc_info=True)
        return fallback
