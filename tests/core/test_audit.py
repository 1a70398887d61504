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


def test_boto3_is_a_pinned_requirement_so_s3_works():
    from pathlib import Path

    from storages.backends.s3 import S3Storage

    requirements = (Path(__file__).resolve().parents[2] / "requirements.txt").read_text().splitlines()
    assert any(line.startswith("boto3==") for line in requirements)
    storage = S3Storage(bucket_name="audit-bucket", location="audit")
    assert storage.bucket_name == "audit-bucket"


APPENDER = """
import os, sys, django
os.environ["DJANGO_SETTINGS_MODULE"] = "betthat.settings"
django.setup()
from datetime import UTC, datetime
from django.conf import settings
from django.core.files.storage import storages
from betthat.core.audit import audit_append
settings.STORAGES = {**settings.STORAGES, "audit": {"BACKEND": sys.argv[1], "OPTIONS": {"location": sys.argv[2]}}}
storages._storages.pop("audit", None)
when = datetime(2026, 11, 21, 13, 5, tzinfo=UTC)
print("ready", flush=True)
sys.stdin.readline()  # both processes start appending at the same moment
for n in range(int(sys.argv[4])):
    audit_append("race", {"writer": sys.argv[3], "n": n, "pad": "x" * 64}, when=when)
print("done", flush=True)
"""


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "backend",
    ["django.core.files.storage.FileSystemStorage", "tests.core.object_storage.ObjectStorage"],
)
def test_two_processes_appending_at_once_lose_no_line(tmp_path, settings, backend):
    """Two real processes append to the same hour; every line of both is there."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from django.db import connection

    base = Path(__file__).resolve().parents[2]
    db = connection.settings_dict
    env = dict(os.environ)
    env["DATABASE_URL"] = (
        f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )
    env["REDIS_URL"] = settings.REDIS_URL
    count = 150
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", APPENDER, backend, str(tmp_path), name, str(count)],
            cwd=base,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("a", "b")
    ]
    for proc in procs:
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
    for proc in procs:
        proc.stdin.write("go\n")
        proc.stdin.flush()
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert "done" in out

    settings.STORAGES = {
        **settings.STORAGES,
        "audit": {"BACKEND": backend, "OPTIONS": {"location": str(tmp_path)}},
    }
    storages._storages.pop("audit", None)
    when = datetime(2026, 11, 21, 13, 5, tzinfo=UTC)
    records = audit_read("race", when)
    storages._storages.pop("audit", None)
    assert len(records) == 2 * count
    for writer in ("a", "b"):
        assert [r["n"] for r in records if r["writer"] == writer] == list(range(count))
    assert AuditRecord.objects.get(path="race/2026/11/21/13.jsonl.gz").lines == 2 * count


def test_staff_actions_on_users_reach_the_audit_store(tmp_path, settings):
    from betthat.users import services
    from tests.factories import UserFactory

    settings.STORAGES = {
        **settings.STORAGES,
        "audit": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    storages._storages.pop("audit", None)
    staff = UserFactory(is_staff=True)
    user = UserFactory()
    services.user_suspend(user=user, actor=staff, reason="chargeback")
    [record] = audit_read("staff")
    assert record["action"] == "user_suspend"
    assert (record["actor_id"], record["user_id"], record["reason"]) == (staff.pk, user.pk, "chargeback")
    assert record["actor_email"] == staff.email
    storages._storages.pop("audit", None)
