"""The index of a device's snapshots (FR-2): what `restic ls --json` lists, kept in the database so
people browse folders and search names without waiting for restic.

A file that did not change between snapshots is one row: `first_seq` … `last_seq` are the
snapshots (numbered per device as indexed) that hold this version, and `last_seq` stays null while
the newest snapshot still holds it. Indexing a snapshot therefore writes only what changed since
the previous one, and forgetting snapshots removes only versions no remaining snapshot holds.
"""

from __future__ import annotations

import hashlib
import posixpath
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Max, Q, QuerySet, Sum

from portico.backups import restic
from portico.backups.models import EntryKind, Snapshot, SnapshotEntry
from portico.devices.models import Device

BATCH = 2000


def digest(folder: str) -> str:
    return hashlib.md5(folder.encode("utf-8", "surrogatepass"), usedforsecurity=False).hexdigest()


def parent_of(path: str) -> str:
    return posixpath.dirname(path) or "/"


@dataclass(frozen=True)
class Node:
    path: str
    kind: str
    size: int
    mtime: datetime | None

    @classmethod
    def from_restic(cls, node: dict) -> Node:
        kind = node.get("type")
        mtime = node.get("mtime")
        return cls(
            path=node["path"],
            kind=kind if kind in (EntryKind.DIR, EntryKind.FILE, EntryKind.SYMLINK) else EntryKind.OTHER,
            size=int(node.get("size") or 0) if kind == EntryKind.FILE else 0,
            mtime=datetime.fromisoformat(mtime) if mtime else None,
        )

    def entry(self, device_id: int, seq: int) -> SnapshotEntry:
        parent = parent_of(self.path)
        return SnapshotEntry(
            device_id=device_id, path=self.path, parent=parent, parent_digest=digest(parent),
            name=posixpath.basename(self.path) or "/", kind=self.kind, size=self.size, mtime=self.mtime,
            first_seq=seq,
        )


def _batches(items: Iterable, size: int = BATCH) -> Iterator[list]:
    batch: list = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _close(device_id: int, ids: list[int], seq: int) -> None:
    for batch in _batches(ids):
        SnapshotEntry.objects.filter(device_id=device_id, pk__in=batch).update(last_seq=seq)


def index_snapshot(device: Device, password: str, listed: dict) -> Snapshot:
    """Index one snapshot (an object of `restic snapshots --json`) after the newest indexed one."""
    previous = Snapshot.objects.filter(device=device).aggregate(seq=Max("seq"))["seq"] or 0
    seq = previous + 1
    open_versions = {
        path: (pk, kind, size, mtime)
        for pk, path, kind, size, mtime in SnapshotEntry.objects.filter(device=device, last_seq__isnull=True)
        .values_list("pk", "path", "kind", "size", "mtime").iterator(chunk_size=BATCH)
    }
    changed: list[int] = []
    counts = {"files": 0, "bytes": 0}

    def new_versions() -> Iterator[SnapshotEntry]:
        for line in restic.lines(device.pk, password, "ls", listed["id"]):
            if line.get("struct_type") != "node" or not line.get("path"):
                continue
            node = Node.from_restic(line)
            if node.kind == EntryKind.FILE:
                counts["files"] += 1
                counts["bytes"] += node.size
            kept = open_versions.pop(node.path, None)
            if kept is not None:
                if kept[1:] == (node.kind, node.size, node.mtime):
                    continue
                changed.append(kept[0])
            yield node.entry(device.pk, seq)

    new_entries = new_versions()
    with transaction.atomic():
        for batch in _batches(new_entries):
            SnapshotEntry.objects.bulk_create(batch)
        # Versions the new snapshot no longer holds, changed or gone, end with the previous one.
        _close(device.pk, changed + [pk for pk, *_rest in open_versions.values()], previous)
        return Snapshot.objects.create(
            device=device, snapshot_id=listed["id"], seq=seq, taken_at=datetime.fromisoformat(listed["time"]),
            paths=listed.get("paths") or [], file_count=counts["files"], total_bytes=counts["bytes"],
        )


def forget_missing(device: Device, kept_ids: set[str]) -> int:
    """Snapshots no longer in the repository leave the index, with the versions only they held."""
    gone = list(Snapshot.objects.filter(device=device).exclude(snapshot_id__in=kept_ids).values_list("seq", flat=True))
    if not gone:
        return 0
    remaining = sorted(Snapshot.objects.filter(device=device, snapshot_id__in=kept_ids).values_list("seq", flat=True))
    with transaction.atomic():
        Snapshot.objects.filter(device=device, seq__in=gone).delete()
        # A version survives if some remaining snapshot lies within first_seq … last_seq.
        held = Q()
        for seq in remaining:
            held |= Q(first_seq__lte=seq) & (Q(last_seq__isnull=True) | Q(last_seq__gte=seq))
        orphans = SnapshotEntry.objects.filter(device=device)
        if remaining:
            orphans = orphans.exclude(held)
        orphans.delete()
    return len(gone)


def synchronise(device: Device, password: str) -> list[Snapshot]:
    """Make the index match the repository: forgotten snapshots leave it, new ones are indexed in
    the order they were taken. A snapshot older than the newest indexed one is not indexed (the
    numbering follows time)."""
    listed = restic.run_json(device.pk, password, "snapshots") or []
    forget_missing(device, {snapshot["id"] for snapshot in listed})
    newest = Snapshot.objects.filter(device=device).order_by("-seq").first()
    known = set(Snapshot.objects.filter(device=device).values_list("snapshot_id", flat=True))
    indexed = []
    for snapshot in sorted(listed, key=lambda s: s["time"]):
        if snapshot["id"] in known:
            continue
        if newest is not None and datetime.fromisoformat(snapshot["time"]) < newest.taken_at:
            continue
        newest = index_snapshot(device, password, snapshot)
        indexed.append(newest)
    return indexed


# Reading the index.


def in_snapshot(device: Device, snapshot: Snapshot) -> QuerySet[SnapshotEntry]:
    return SnapshotEntry.objects.filter(device=device, first_seq__lte=snapshot.seq).filter(
        Q(last_seq__isnull=True) | Q(last_seq__gte=snapshot.seq)
    )


def folder(device: Device, snapshot: Snapshot, path: str) -> QuerySet[SnapshotEntry]:
    """The entries of one folder of a snapshot: folders first, then by name."""
    return in_snapshot(device, snapshot).filter(parent_digest=digest(path), parent=path).order_by("kind", "name", "pk")


def search(device: Device, text: str) -> QuerySet[SnapshotEntry]:
    """Every version of every file or folder whose name contains `text`, in any snapshot."""
    return SnapshotEntry.objects.filter(device=device, name__icontains=text).order_by("path", "-first_seq")


def entry_of(device: Device, snapshot: Snapshot, path: str) -> SnapshotEntry | None:
    parent = parent_of(path)
    return in_snapshot(device, snapshot).filter(parent_digest=digest(parent), parent=parent, path=path).first()


def bytes_under(device: Device, snapshot: Snapshot, entry: SnapshotEntry) -> int:
    """The size of a file, or of every file within a folder (for a restore's progress)."""
    if entry.kind != EntryKind.DIR:
        return entry.size
    prefix = entry.path.rstrip("/") + "/"
    total = in_snapshot(device, snapshot).filter(path__startswith=prefix, kind=EntryKind.FILE).aggregate(
        total=Sum("size")
    )["total"]
    return total or 0
