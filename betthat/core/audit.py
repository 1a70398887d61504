"""The append-only audit trail in object storage (django-storages; local files by default).

`audit_append("odds", {...})` adds one JSON line to `<stream>/<YYYY>/<MM>/<DD>/<HH>.jsonl.gz`
in the "audit" storage. Each call appends a gzip member, and a file of concatenated gzip
members is itself a valid gzip file, so `zcat` reads the hour as one stream of lines.
On S3, where objects cannot be appended to, the hour is rewritten (read + new member).
"""

from __future__ import annotations

import gzip
import io
import json
import threading
from datetime import UTC, datetime

from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import F

from betthat.core.models import AuditRecord

_lock = threading.Lock()


def audit_path(stream: str, when: datetime | None = None) -> str:
    when = (when or datetime.now(UTC)).astimezone(UTC)
    return f"{stream}/{when:%Y/%m/%d/%H}.jsonl.gz"


def audit_append_many(stream: str, records: list[dict], *, when: datetime | None = None) -> str:
    """Append `records` as JSON lines to this hour's file of `stream`; return its path."""
    path = audit_path(stream, when)
    body = "".join(json.dumps(r, cls=DjangoJSONEncoder, sort_keys=True) + "\n" for r in records)
    member = gzip.compress(body.encode())
    storage = storages["audit"]
    with _lock:
        if hasattr(storage, "path"):
            import os

            full = storage.path(path)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "ab") as handle:
                handle.write(member)
        else:
            existing = b""
            if storage.exists(path):
                with storage.open(path, "rb") as handle:
                    existing = handle.read()
                storage.delete(path)
            storage.save(path, ContentFile(existing + member))
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
