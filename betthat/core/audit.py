"""The append-only audit trail in object storage (django-storages; local files by default).

`audit_append("odds", {...})` adds one JSON line to `<stream>/<YYYY>/<MM>/<DD>/<HH>.jsonl.gz`
in the "audit" storage. Each call appends a gzip member, and a file of concatenated gzip
members is itself a valid gzip file, so `zcat` reads the hour as one stream of lines.
On S3, where objects cannot be appended to, the hour is rewritten (read + new member) under a
PostgreSQL advisory lock; local files take an flock around one O_APPEND write. Either way two
processes appending at once lose no line.
"""

from __future__ import annotations

import fcntl
import gzip
import io
import json
import os
import threading
from datetime import UTC, datetime

from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.db.models import F

from betthat.core.models import AuditRecord

_lock = threading.Lock()


def audit_path(stream: str, when: datetime | None = None) -> str:
    when = (when or datetime.now(UTC)).astimezone(UTC)
    return f"{stream}/{when:%Y/%m/%d/%H}.jsonl.gz"


def _local_path(storage: Storage, path: str) -> str | None:
    """The file behind `path` when the storage is on a local disk; None for object stores
    (S3's path() raises NotImplementedError like the base Storage's)."""
    try:
        return storage.path(path)
    except NotImplementedError:
        return None


def _append_local(full: str, member: bytes) -> None:
    """One gzip member onto a local file, safe across processes: an exclusive flock around a
    single O_APPEND write (a buffered file could split a large member into several writes)."""
    os.makedirs(os.path.dirname(full), exist_ok=True)
    fd = os.open(full, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        view = memoryview(member)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    finally:
        os.close(fd)  # closing releases the lock


def _append_object(storage: Storage, path: str, member: bytes) -> None:
    """Objects cannot be appended to: read, add, rewrite, under a PostgreSQL advisory lock on
    the path so that two processes (workers, web) never rewrite the same hour at once."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(hashtextextended(%s, 0))", [f"audit:{path}"])
        try:
            existing = b""
            if storage.exists(path):
                with storage.open(path, "rb") as handle:
                    existing = handle.read()
            # S3Storage overwrites the same key (AWS_S3_FILE_OVERWRITE, its default), so the
            # hour is never absent; a storage that picks a new name instead is handled too.
            saved = storage.save(path, ContentFile(existing + member))
            if saved != path:
                storage.delete(path)
                storage.save(path, ContentFile(existing + member))
                storage.delete(saved)
        finally:
            cursor.execute("SELECT pg_advisory_unlock(hashtextextended(%s, 0))", [f"audit:{path}"])


def audit_append_many(stream: str, records: list[dict], *, when: datetime | None = None) -> str:
    """Append `records` as JSON lines to this hour's file of `stream`; return its path."""
    path = audit_path(stream, when)
    body = "".join(json.dumps(r, cls=DjangoJSONEncoder, sort_keys=True) + "\n" for r in records)
    member = gzip.compress(body.encode())
    storage = storages["audit"]
    with _lock:
        full = _local_path(storage, path)
        if full is not None:
            _append_local(full, member)
        else:
            _append_object(storage, path, member)
    updated = AuditRecord.objects.filter(path=path).update(lines=F("lines") + len(records))
    if not updated:
        AuditRecord.objects.get_or_create(stream=stream, path=path)
        AuditRecord.objects.filter(path=path).update(lines=F("lines") + len(records))
    return path


def audit_append(stream: str, record: dict, *, when: datetime | None = None) -> str:
    return audit_append_many(stream, [record], when=when)


def audit_read(stream: str, when: datetime | None = None) -> list[dict]:
    """Every record of one hour of `stream` (for tests and staff tooling)."""
    storage = storages["audit"]
    path = audit_path(stream, when)
    if not storage.exists(path):
        return []
    with storage.open(path, "rb") as handle:
        data = gzip.GzipFile(fileobj=io.BytesIO(handle.read())).read()
    return [json.loads(line) for line in data.decode().splitlines() if line]
