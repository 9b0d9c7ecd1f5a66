"""Fixtures of the export tests: files go to a temporary folder, and the request's work commits."""

import pytest


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Export files are written under a folder of the test's own."""
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """Commit the request's work so the queued job and its email (Huey inline in tests) run."""
    return lambda: django_capture_on_commit_callbacks(execute=True)
