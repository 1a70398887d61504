"""Issue 14 item 2: an API token is looked up in Redis, not the database, after the first
request; revocation stays immediate (a revoke, a password change, the admin's delete, a
suspension), including against a request that read the token just before it was deleted."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from betthat.users import services, token_cache
from betthat.users.models import ApiToken, User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ME = "/api/v1/me/"


def token_queries(client) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as captured:
        status = client.get(ME).status_code
    return status, sum("users_authtoken_token" in q["sql"] for q in captured.captured_queries)


def authenticated(api_client, user: User) -> tuple[str, str]:
    key = services.user_token_create(user=user)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return key, ApiToken.hash(key)


def test_the_second_request_reads_the_token_from_redis(api_client):
    authenticated(api_client, UserFactory())
    assert token_queries(api_client) == (200, 1)
    assert token_queries(api_client) == (200, 0)
    assert token_queries(api_client) == (200, 0)


def test_a_revoked_token_is_refused_at_once_although_it_was_cached(api_client):
    user = UserFactory()
    _key, key_hash = authenticated(api_client, user)
    assert token_queries(api_client) == (200, 1)
    assert token_cache.lookup(key_hash) is not None
    services.user_token_revoke(user=user, token_id=ApiToken.objects.get(key_hash=key_hash).pk)
    assert api_client.get(ME).status_code == 401


def test_a_fill_after_the_revocation_committed_cannot_bring_the_token_back(
    api_client, django_capture_on_commit_callbacks
):
    """A request that read the token just before it was deleted caches it just after: the
    tombstone written on commit wins (SET NX), so the next request is still refused."""
    user = UserFactory()
    _key, key_hash = authenticated(api_client, user)
    stale = ApiToken.objects.select_related("user").get(key_hash=key_hash)
    with django_capture_on_commit_callbacks(execute=True):
        services.user_tokens_revoke_all(user=user)
    token_cache.store(key_hash, stale.user, stale)  # the late fill of a racing request
    with pytest.raises(token_cache.Revoked):
        token_cache.lookup(key_hash)
    assert api_client.get(ME).status_code == 401


def test_the_admins_delete_is_refused_at_once(api_client):
    """Any deletion, not only the services': the post_delete receiver."""
    _key, key_hash = authenticated(api_client, UserFactory())
    assert api_client.get(ME).status_code == 200
    ApiToken.objects.get(key_hash=key_hash).delete()
    assert api_client.get(ME).status_code == 401


def test_a_suspension_is_seen_by_the_next_request(api_client):
    user = UserFactory()
    authenticated(api_client, user)
    assert token_queries(api_client) == (200, 1)
    services.user_suspend(user=user, reason="chargebacks")
    response = api_client.get(ME)
    assert response.status_code == 403 and response.json()["error"]["code"] == "account_suspended"


def test_a_changed_user_row_is_read_afresh(api_client):
    user = UserFactory(name="Before")
    authenticated(api_client, user)
    assert api_client.get(ME).json()["name"] == "Before"
    user.name = "After"
    user.save(update_fields=["name"])
    status, reads = token_queries(api_client)
    assert (status, reads) == (200, 1)
    assert api_client.get(ME).json()["name"] == "After"
