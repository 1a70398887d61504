import gzip
from datetime import UTC, datetime

import pytest
from django.core.files.storage import storages

from betthat.core.audit import audit_append, audit_append_many, audit_read
from betthat.core.models import AuditRecord

pytestmark = pytest.mark.django_db


def test_audit_lines_append_to_the_hourly_gzip_file(tmp_path, settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "audit": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    storages._storages.pop("audit", None)
    when = datetime(2026, 11, 21, 13, 5, tzinfo=UTC)
    path = audit_append("settlement", {"bet_id": 1, "payout": "25.00"}, when=when)
    audit_append_many("settlement", [{"bet_id": 2}, {"bet_id": 3}], when=when)
    assert path == "settlement/2026/11/21/13.jsonl.gz"
    assert [r["bet_id"] for r in audit_read("settlement", when)] == [1, 2, 3]
    with gzip.open(tmp_path / path, "rt") as handle:
        assert len(handle.read().splitlines()) == 3
    assert AuditRecord.objects.get(path=path).lines == 3
    storages._storages.pop("audit", None)
