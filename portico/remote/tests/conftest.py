from __future__ import annotations

import pytest

TEST_USER = "portico-test-user"


@pytest.fixture(scope="session")
def linux_user():
    """An unprivileged account on this machine, for the user command line (RA-3)."""
    import os
    import pwd
    import subprocess

    if os.geteuid() != 0:
        pytest.skip("opening a shell as another user needs root (runuser)")
    try:
        pwd.getpwnam(TEST_USER)
        created = False
    except KeyError:
        subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", TEST_USER], check=True)
        created = True
    yield TEST_USER
    if created:  # the machine is left as it was found
        subprocess.run(["userdel", "--remove", TEST_USER], check=False, capture_output=True)
