"""What the remote-access benchmarks share: their PostgreSQL database and a process's memory."""

from __future__ import annotations

import os
from urllib.parse import urlparse


def prepare_database() -> None:
    """Create the database DATABASE_URL names, if it is missing."""
    import psycopg

    url = urlparse(os.environ["DATABASE_URL"])
    name = url.path.lstrip("/")
    with psycopg.connect(host=url.hostname, port=url.port or 5432, user=url.username, dbname="postgres",
                         autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
