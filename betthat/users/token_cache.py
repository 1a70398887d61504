"""API token -> user, cached in Redis, so an API request costs no database round trip to
authenticate (the throttles already count in Redis, through Django's cache).

Keys (private to the checkout, `betthat.core.redis.key`):

- `api-token:<sha256 of the key>`: the pickled (user, token) pair, for at most
  settings.API_TOKEN_CACHE_SECONDS and never past the token's expiry; or the tombstone
  `revoked`, which answers "invalid token" without asking the database.
- `api-token-user:<user id>`: the hashes cached for that user, so a change to the user row
  drops them.

Revocation is immediate: deleting a token (the revoke services, a password change, soft
delete, the admin, a cascade) deletes its entry at once and writes the tombstone once the
deletion commits, and a cache fill uses `SET NX`, so a request that read the token just
before it was deleted cannot put it back after. A user saved through the ORM (suspension,
limits, verification) drops that user's entries at once and again on commit; what a cached user carries can therefore be at most one request's race
old, and placement and the wallet re-read the user row under their locks anyway.

Redis unavailable: every function here falls back to the database path (lookups miss,
writes are skipped) and the tombstones cannot be written, so the cache is bypassed until
Redis answers again.
"""

from __future__ import annotations

import logging
import pickle
from datetime import datetime

import redis
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from betthat.core import redis as bt_redis
from betthat.users.models import ApiToken, User

logger = logging.getLogger(__name__)

REVOKED = b"revoked"


class Revoked(Exception):
    """The token was revoked: refuse it without asking the database."""


def _token_key(key_hash: str) -> str:
    return bt_redis.key("api-token", key_hash)


def _user_key(user_id: int) -> str:
    return bt_redis.key("api-token-user", user_id)


def lookup(key_hash: str) -> tuple[User, ApiToken] | None:
    """The cached (user, token) for a key's hash; None on a miss; raises Revoked for a
    revoked token."""
    try:
        raw = bt_redis.client().get(_token_key(key_hash))
    except redis.RedisError:
        return None
    if raw is None:
        return None
    if raw == REVOKED:
        raise Revoked
    if not isinstance(raw, bytes):  # the client returns bytes; anything else is not ours
        return None
    try:
        user, token = pickle.loads(raw)  # noqa: S301  (our own Redis, our own writes)
    except Exception:  # an entry from another code version: read the database instead
        return None
    if not isinstance(user, User) or not isinstance(token, ApiToken):
        return None
    return user, token


def store(key_hash: str, user: User, token: ApiToken, *, now: datetime | None = None) -> None:
    """Cache a (user, token) just read from the database, unless something (a tombstone) is
    already there."""
    now = now or timezone.now()
    ttl = min(settings.API_TOKEN_CACHE_SECONDS, int((token.expires_at - now).total_seconds()))
    if ttl <= 0:
        return
    try:
        pipe = bt_redis.client().pipeline(transaction=True)
        pipe.set(_token_key(key_hash), pickle.dumps((user, token)), ex=ttl, nx=True)
        pipe.sadd(_user_key(user.pk), key_hash)
        pipe.expire(_user_key(user.pk), settings.API_TOKEN_CACHE_SECONDS)
        pipe.execute()
    except redis.RedisError:
        logger.warning("api token cache: Redis unavailable, not cached")


def _write_tombstones(key_hashes: list[str]) -> None:
    try:
        pipe = bt_redis.client().pipeline(transaction=True)
        for key_hash in key_hashes:
            pipe.set(_token_key(key_hash), REVOKED, ex=settings.API_TOKEN_CACHE_SECONDS)
        pipe.execute()
    except redis.RedisError:
        logger.warning("api token cache: Redis unavailable, tombstones not written")


def _delete_entries(key_hashes: list[str]) -> None:
    try:
        bt_redis.client().delete(*(_token_key(key_hash) for key_hash in key_hashes))
    except redis.RedisError:
        logger.warning("api token cache: Redis unavailable, entries not deleted")


def revoke(key_hashes: list[str]) -> None:
    """The tokens are being deleted: their cached entries go now (a request meanwhile reads
    the database, and sees the deletion once it commits), and the tombstones that refuse them
    are written when the deletion commits (at once outside a transaction), overwriting
    whatever a request filled in between. A deletion rolled back leaves only a cache miss."""
    if key_hashes:
        hashes = list(key_hashes)
        _delete_entries(hashes)
        transaction.on_commit(lambda: _write_tombstones(hashes))


def _drop_user(user_id: int) -> None:
    try:
        client = bt_redis.client()
        hashes = client.smembers(_user_key(user_id))
        if not hashes:
            return
        pipe = client.pipeline(transaction=True)
        for raw in hashes:
            key = _token_key(raw.decode() if isinstance(raw, bytes) else raw)
            # Leave a tombstone in place: only a cached (user, token) is dropped.
            pipe.eval(
                "if redis.call('GET', KEYS[1]) ~= ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0",
                1,
                key,
                REVOKED,
            )
        pipe.delete(_user_key(user_id))
        pipe.execute()
    except redis.RedisError:
        logger.warning("api token cache: Redis unavailable, user %s not dropped", user_id)


def forget_user(user_id: int) -> None:
    """The user row changed: drop its cached tokens now and again once the change commits
    (a request in between may have cached the row as it was before)."""
    _drop_user(user_id)
    transaction.on_commit(lambda: _drop_user(user_id))
