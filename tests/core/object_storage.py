"""A storage with no local paths, like S3: only open, save, exists and delete (for tests of
the audit store's object-storage path without a network)."""

from __future__ import annotations

import os
from pathlib import Path

from django.core.files.base import ContentFile
from django.core.files.storage import Storage


class ObjectStorage(Storage):
    def __init__(self, location: str) -> None:
        self.root = Path(location)

    def _full(self, name: str) -> Path:
        return self.root / name

    def _open(self, name, mode="rb"):
        return ContentFile(self._full(name).read_bytes(), name=name)

    def _save(self, name, content):
        full = self._full(name)
        full.parent.mkdir(parents=True, exist_ok=True)
        temporary = full.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_bytes(content.read())
        os.replace(temporary, full)  # objects are replaced whole, never appended to
        return name

    def get_available_name(self, name, max_length=None):
        return name  # like S3 with file_overwrite: the same key is rewritten

    def exists(self, name):
        return self._full(name).exists()

    def delete(self, name):
        self._full(name).unlink(missing_ok=True)
