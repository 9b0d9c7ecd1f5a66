from __future__ import annotations

import os
import shutil

import pytest

from portico.remote import services as remote


@pytest.fixture(autouse=True)
def backup_storage(settings, tmp_path):
    """Each test's repositories in a folder of its own."""
    location = tmp_path / "backups"
    settings.BACKUP_STORAGE = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": location},
    }
    return location


@pytest.fixture(scope="session")
def restic() -> str:
    """The restic client. Without the package the tests that need it skip, except in CI (CI set),
    where they fail."""
    found = shutil.which("restic")
    if found is None:
        if os.environ.get("CI", "").lower() not in ("", "0", "false", "no"):
            pytest.fail("CI is set but restic is not installed: install restic (`make system-packages`)")
        pytest.skip("restic is not installed (apt-get install restic); CI runs these tests")
    return found


@pytest.fixture
def enrol(admin, org_a):
    """`enrol(hostname)` enrols a device into org_a as its agent would: (device, secret)."""

    def enrol(hostname: str):
        _token, raw = remote.create_enrolment_token(admin, org_a)
        return remote.enrol(remote.Enrolment(token=raw, hostname=hostname, os_family="linux"))

    return enrol
