"""Portico's settings for the backup benchmark, in the benchmark's process and its server's alike:
repositories, restic's cache and Huey's queue in a folder of the benchmark's own (var/ is shared
with the demo, whose device ids would collide), and DEBUG off, as in production."""

from portico.settings import *  # noqa: F403
from portico.settings import BASE_DIR, HUEY

BENCH_DIR = BASE_DIR / "var" / "bench-backups"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
BACKUP_STORAGE = {
    "BACKEND": "django.core.files.storage.FileSystemStorage",
    "OPTIONS": {"location": BENCH_DIR / "repositories"},
}
BACKUP_CACHE_DIR = str(BENCH_DIR / "server-restic-cache")
# The repositories' upkeep after a backup is queued here and never run: the benchmark indexes itself.
HUEY = {**HUEY, "huey_class": "huey.SqliteHuey", "filename": str(BENCH_DIR / "huey.sqlite3"), "immediate": False}
HUEY.pop("url", None)
