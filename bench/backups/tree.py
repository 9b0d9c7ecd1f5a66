"""The file tree the backup benchmarks back up: 100,000 files, about 600 MB, made from a fixed
seed, so every run (and every machine) backs up the same bytes.

It looks like a small office server: six people's homes (documents in folders up to seven deep,
photos by month, a browser cache of many tiny files, one mailbox whose inbox holds 12,000 mails in
one folder), source projects nested up to nine deep, configuration files, and a few large files
(logs, an archive, a disk image). Text (source, mail, documents, logs) compresses; photos, office
files, the cache and the archives do not. Every file's content is its own, and every file has a
fixed modification time.

    .venv/bin/python bench/backups/tree.py                  # makes var/bench-backups/tree once
    .venv/bin/python bench/backups/tree.py --dir /tmp/tree  # elsewhere; --force makes it again
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DIR = ROOT / "var" / "bench-backups" / "tree"
SEED = 20261201
VERSION = 1  # bump when the layout or contents change: a cached tree of another version is made again
FILES = 100_000
PEOPLE = ("ana", "ben", "chen", "dara", "eli", "fay")
WORDS = (
    "the of and to in is for on that with as by it from at this be are or an was have not will can "
    "invoice report budget meeting client server backup restore folder project quarter review draft "
    "final summary notes agenda contract order payment account customer device network printer update "
    "install config value error warning info debug request response user password session ticket "
    "schedule monday tuesday wednesday thursday friday january february march april may june july "
    "august september october november december total amount price tax net gross office team"
).split()
SOURCE_EXTENSIONS = (".py", ".js", ".ts", ".css", ".html", ".json", ".md", ".yml", ".go", ".c", ".h")
TEXT_EXTENSIONS = (".txt", ".md", ".csv", ".odt.txt", ".log")
OFFICE_EXTENSIONS = (".docx", ".xlsx", ".pdf", ".pptx", ".odt", ".ods")
BASE_MTIME = 1_700_000_000  # November 2023; files are spread over the two years after


@dataclass(frozen=True)
class File:
    path: str  # relative to the tree
    size: int
    text: bool  # compressible text; otherwise random bytes


def _lognormal_size(rng: random.Random, median: float, sigma: float, low: int, high: int) -> int:
    return int(min(high, max(low, rng.lognormvariate(0, sigma) * median)))


def _folders(rng: random.Random, root: str, count: int, max_depth: int, names: list[str]) -> list[str]:
    """`count` folders under `root`: each new one goes under an existing one, shallow ones more often."""
    made = [(root, 0)]
    for n in range(count):
        parent, depth = rng.choice(made[: max(1, len(made) // 2)] if rng.random() < 0.5 else made)
        if depth >= max_depth:
            parent, depth = root, 0
        made.append((f"{parent}/{rng.choice(names)}-{n:04d}", depth + 1))
    return [folder for folder, _depth in made]


def _spread(rng: random.Random, folders: list[str], count: int) -> Iterator[str]:
    """Which folder each of `count` files goes to: some folders get many, most a few (Zipf-like)."""
    weights = [1 / (rank + 1) ** 0.8 for rank in range(len(folders))]
    shuffled = folders[:]
    rng.shuffle(shuffled)
    yield from rng.choices(shuffled, weights=weights, k=count)


def layout(rng: random.Random) -> list[File]:
    """Every file of the tree, in the order it is written."""
    files: list[File] = []

    def add(path: str, size: int, text: bool) -> None:
        files.append(File(path, size, text))

    # Source projects: 45,000 small text files, nested up to nine deep.
    package_names = ["src", "lib", "core", "api", "util", "models", "views", "tests", "docs", "internal", "pkg"]
    for project in range(10):
        root = f"srv/projects/project-{project:02d}"
        folders = _folders(rng, root, 400, 9, package_names)
        for n, folder in enumerate(_spread(rng, folders, 4_500)):
            extension = rng.choice(SOURCE_EXTENSIONS)
            add(f"{folder}/module_{n:05d}{extension}", _lognormal_size(rng, 1_500, 1.0, 40, 200_000), True)

    # One mailbox: 20,000 mails, 12,000 of them in one folder (the big folder to browse).
    mailbox = "home/ana/Maildir"
    for folder, count in (("cur", 12_000), (".Sent/cur", 4_000), (".Archive.2023/cur", 2_000),
                          (".Archive.2024/cur", 2_000)):
        for n in range(count):
            add(f"{mailbox}/{folder}/{BASE_MTIME + n * 97}.M{n}P{rng.randrange(1 << 16)}.mail:2,S",
                _lognormal_size(rng, 4_000, 0.8, 300, 400_000), True)

    # Documents: 15,000 per six people, in folders up to seven deep; text or office files.
    document_names = ["Projects", "Clients", "Invoices", "Reports", "Archive", "Contracts", "Notes", "Scans", "HR"]
    for person in PEOPLE:
        folders = _folders(rng, f"home/{person}/Documents", 60, 7, document_names)
        for n, folder in enumerate(_spread(rng, folders, 2_500)):
            word = rng.choice(WORDS)
            if rng.random() < 0.6:
                add(f"{folder}/{word}-{n:04d}{rng.choice(TEXT_EXTENSIONS)}",
                    _lognormal_size(rng, 3_000, 1.0, 100, 500_000), True)
            else:
                add(f"{folder}/{word}-{n:04d}{rng.choice(OFFICE_EXTENSIONS)}",
                    _lognormal_size(rng, 8_000, 1.0, 1_000, 2_000_000), False)

    # Browser caches: 15,000 tiny files that do not compress, in folders named by a hex digit pair.
    for n in range(15_000):
        person = PEOPLE[n % len(PEOPLE)]
        key = f"{rng.getrandbits(64):016x}"
        add(f"home/{person}/.cache/browser/{key[:2]}/{key}", _lognormal_size(rng, 1_000, 1.2, 20, 100_000), False)

    # Photos: 100 of 0.8 to 2.4 MB, by month.
    for n in range(100):
        person = PEOPLE[n % 3]
        year, month = 2023 + n // 60, 1 + n % 12
        add(f"home/{person}/Pictures/{year}/{year}-{month:02d}/IMG_{4000 + n}.jpg", rng.randint(800_000, 2_400_000), False)

    # A few large files: logs (text), an archive and a disk image (random).
    add("var/log/app/app.log", 15_000_000, True)
    add("var/log/app/app.log.1", 12_000_000, True)
    add("srv/archives/site-2024.tar.gz", 30_000_000, False)
    add("srv/archives/vm-disk.qcow2", 20_000_000, False)

    # Configuration: the rest of the 100,000, tiny text files, four deep at most.
    folders = _folders(rng, "etc", 150, 4, ["conf.d", "sites", "ssl", "systemd", "profile.d", "apt", "cron.d"])
    for n, folder in enumerate(_spread(rng, folders, FILES - len(files))):
        add(f"{folder}/setting-{n:04d}.conf", _lognormal_size(rng, 600, 0.8, 20, 20_000), True)
    return files


class Text:
    """Compressible text: words from a small vocabulary, as a slice of a corpus made once, so
    small files cost no word-by-word work; large ones get fresh words (no dedup between them)."""

    CORPUS = 8 << 20

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.corpus = self.words(self.CORPUS)

    def words(self, size: int) -> bytes:
        lines, total = [], 0
        while total < size:
            line = " ".join(self.rng.choices(WORDS, k=12)) + f" {self.rng.randrange(10**6)}\n"
            lines.append(line)
            total += len(line)
        return "".join(lines).encode()[:size]

    def content(self, path: str, size: int) -> bytes:
        head = f"{path}\n".encode()
        if size > 1 << 20:
            return (head + self.words(size))[:size]
        start = self.rng.randrange(self.CORPUS - size)
        return (head + self.corpus[start : start + size])[:size]


def make(directory: Path) -> dict:
    """Write the tree into `directory` (emptied first); what it holds, as tree.json records it."""
    started = time.monotonic()
    if directory.exists():
        shutil.rmtree(directory)
    rng = random.Random(SEED)
    files = layout(rng)
    text = Text(rng)
    made_folders: set[str] = set()
    total = text_bytes = 0
    for file in files:
        folder = os.path.dirname(file.path)
        if folder not in made_folders:
            (directory / folder).mkdir(parents=True, exist_ok=True)
            made_folders.add(folder)
        data = text.content(file.path, file.size) if file.text else rng.randbytes(file.size)
        target = directory / file.path
        target.write_bytes(data)
        mtime = BASE_MTIME + rng.randrange(2 * 365 * 86_400)
        os.utime(target, (mtime, mtime))
        total += file.size
        text_bytes += file.size if file.text else 0
    summary = {
        "version": VERSION, "seed": SEED, "files": len(files), "folders": len(made_folders),
        "bytes": total, "text_bytes": text_bytes, "seconds": round(time.monotonic() - started, 1),
    }
    (directory.parent / f"{directory.name}.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def ensure(directory: Path = DEFAULT_DIR, *, force: bool = False) -> dict:
    """The tree in `directory`, made only when missing, unfinished or of another version."""
    record = directory.parent / f"{directory.name}.json"
    if not force and record.exists() and directory.exists():
        summary = json.loads(record.read_text())
        if summary.get("version") == VERSION and summary.get("seed") == SEED:
            return summary
    record.unlink(missing_ok=True)
    return make(directory)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--force", action="store_true", help="make it again even if it is there")
    args = parser.parse_args()
    print(json.dumps(ensure(args.dir.resolve(), force=args.force), indent=2))


if __name__ == "__main__":
    main()
