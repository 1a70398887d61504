"""Time partitions of `chat_message` (PostgreSQL declarative range partitioning on `ts`).

One partition per month or per ISO week (CHAT_PARTITION_INTERVAL), named by its first day,
e.g. `chat_message_p20261101`. `ensure_partitions` creates the current one and
CHAT_PARTITIONS_AHEAD more (a beat task runs it daily); `drop_expired_partitions` drops those
wholly older than CHAT_RETENTION_DAYS (0 keeps everything). A message whose time has no
partition lands in `chat_message_default`, so a send is never refused; creating the partition
later moves those rows into it (in one transaction), and `default_partition_rows` reports
them (the `chat.W001` database check and the `chat_partitions` command show it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.db import connections, transaction
from django.utils import timezone

PARENT = "chat_message"
DEFAULT = "chat_message_default"
_LOCK_KEY = 0x63686174  # "chat": one partition maintainer at a time


@dataclass(frozen=True)
class Partition:
    name: str
    start: datetime
    end: datetime


def _interval() -> str:
    interval = settings.CHAT_PARTITION_INTERVAL
    if interval not in ("month", "week"):
        raise ValueError(f"CHAT_PARTITION_INTERVAL must be 'month' or 'week', not {interval!r}")
    return interval


def bounds(when: datetime, interval: str | None = None) -> tuple[datetime, datetime]:
    """The [start, end) in UTC of the partition that holds `when`."""
    interval = interval or _interval()
    day = when.astimezone(UTC).date()
    if interval == "week":
        first = day - timedelta(days=day.weekday())
        last = first + timedelta(days=7)
    else:
        first = day.replace(day=1)
        last = (first + timedelta(days=32)).replace(day=1)
    return _midnight(first), _midnight(last)


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def partition_for(when: datetime, interval: str | None = None) -> Partition:
    start, end = bounds(when, interval)
    return Partition(name=f"{PARENT}_p{start:%Y%m%d}", start=start, end=end)


def list_partitions(using: str = "default") -> list[str]:
    """Names of the attached partitions (the default one included), oldest first."""
    with connections[using].cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
             WHERE i.inhparent = %s::regclass ORDER BY c.relname
            """,
            [PARENT],
        )
        return [row[0] for row in cursor.fetchall()]


def create_partition(part: Partition, using: str = "default") -> bool:
    """Create and attach `part` unless it exists; rows already in the default partition for
    its range move into it first (PostgreSQL refuses to attach over them). True if created."""
    connection = connections[using]
    with transaction.atomic(using=using), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
        cursor.execute("SELECT to_regclass(%s)", [part.name])
        if cursor.fetchone()[0] is not None:
            return False
        quoted = connection.ops.quote_name(part.name)
        cursor.execute(f"CREATE TABLE {quoted} (LIKE {PARENT} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
        cursor.execute(
            f"""
            WITH moved AS (DELETE FROM {DEFAULT} WHERE ts >= %s AND ts < %s RETURNING *)
            INSERT INTO {quoted} SELECT * FROM moved
            """,
            [part.start, part.end],
        )
        cursor.execute(
            f"ALTER TABLE {PARENT} ATTACH PARTITION {quoted} FOR VALUES FROM (%s) TO (%s)",
            [part.start, part.end],
        )
    return True


def ensure_partitions(
    *, now: datetime | None = None, ahead: int | None = None, using: str = "default"
) -> list[str]:
    """Create the partition of `now` and `ahead` following ones; return the names created."""
    now = now or timezone.now()
    ahead = settings.CHAT_PARTITIONS_AHEAD if ahead is None else ahead
    created = []
    when = now
    for _ in range(ahead + 1):
        part = partition_for(when)
        if create_partition(part, using=using):
            created.append(part.name)
        when = part.end
    return created


def drop_expired_partitions(*, now: datetime | None = None, using: str = "default") -> list[str]:
    """Drop partitions that end before now - CHAT_RETENTION_DAYS; nothing when it is 0."""
    days = settings.CHAT_RETENTION_DAYS
    if days <= 0:
        return []
    cutoff = (now or timezone.now()) - timedelta(days=days)
    dropped = []
    connection = connections[using]
    for name in list_partitions(using):
        if name == DEFAULT:
            continue
        start = datetime.strptime(name.rsplit("_p", 1)[1], "%Y%m%d").replace(tzinfo=UTC)
        _, end = bounds(start)
        if end <= cutoff:
            with transaction.atomic(using=using), connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
                cursor.execute(f"DROP TABLE IF EXISTS {connection.ops.quote_name(name)}")
            dropped.append(name)
    return dropped


def default_partition_rows(using: str = "default") -> int:
    with connections[using].cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {DEFAULT}")
        return int(cursor.fetchone()[0])


def partition_of_message(msg_id, ts, using: str = "default") -> str | None:
    """The partition a stored message is in (tests and staff tooling)."""
    with connections[using].cursor() as cursor:
        cursor.execute(
            f"SELECT tableoid::regclass::text FROM {PARENT} WHERE msg_id = %s AND ts = %s", [msg_id, ts]
        )
        row = cursor.fetchone()
    return row[0] if row else None
