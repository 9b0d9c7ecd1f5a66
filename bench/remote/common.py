"""What the remote-access benchmarks share: their settings, their PostgreSQL database and a
process's memory. Importing it sets the environment Django is then set up with."""

from __future__ import annotations

import os
from urllib.parse import urlparse

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portico.settings")
os.environ.setdefault("PORTICO_SECRET_KEY", "bench")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_remote")


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
