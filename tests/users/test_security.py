"""Issue 8 item 3 and 8: every way in honours verification and MFA; tokens rotate, expire and
can be revoked; the admin goes through allauth; idle sessions end; staff actions on users
need their own permission and are audited."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.core.files.storage import storages
from django.test import RequestFactory
from django.utils import timezone
from rest_framework.throttling import AnonRateThrottle

from betthat.core.audit import audit_read
from betthat.users import services
from betthat.users.models import ApiToken, User
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db
TOKEN_URL = "/api/v1/auth/token/"


def assert_error(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code, body
    assert body["error"]["message"]


def current_code(secret: str) -> str:
    counters = list(yield_hotp_counters_from_time())
    return format_hotp_value(hotp_value(secret, counters[len(counters) // 2]))


@pytest.fixture
def audit_dir(tmp_path, settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "audit": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    storages._storages.pop("audit", None)
    yield tmp_path
    storages._storages.pop("audit", None)


# --- the token endpoint -------------------------------------------------------------------


def test_token_refused_to_an_unverified_email(api_client):
    user = UserFactory()
    EmailAddress.objects.filter(user=user).update(verified=False)
    response = api_client.post(TOKEN_URL, {"email": user.email, "password": PASSWORD}, format="json")
    assert_error(response, 403, "email_unverified")
    assert not ApiToken.objects.filter(user=user).exists()


@pytest.fixture
def totp_tolerance(settings):
    # A code made just before a 30 s boundary stays valid just after it.
    settings.MFA_TOTP_TOLERANCE = 1


def test_token_needs_the_totp_code_when_mfa_is_on(api_client, totp_tolerance):
    user = UserFactory()
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    credentials = {"email": user.email, "password": PASSWORD}
    assert_error(api_client.post(TOKEN_URL, credentials, format="json"), 401, "mfa_required")
    wrong = api_client.post(TOKEN_URL, {**credentials, "otp": "000000"}, format="json")
    assert_error(wrong, 401, "mfa_invalid")
    assert not ApiToken.objects.filter(user=user).exists()
    right = api_client.post(TOKEN_URL, {**credentials, "code": current_code(secret)}, format="json")
    assert right.status_code == 200, right.content
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {right.json()['token']}")
    assert api_client.get("/api/v1/me/").json()["id"] == user.pk


def test_a_totp_code_is_accepted_once(api_client, totp_tolerance):
    user = UserFactory()
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    body = {"email": user.email, "password": PASSWORD, "otp": current_code(secret)}
    assert api_client.post(TOKEN_URL, body, format="json").status_code == 200
    assert_error(api_client.post(TOKEN_URL, body, format="json"), 401, "mfa_invalid")


def test_failed_attempts_are_throttled_per_account_across_clients(api_client):
    """Five wrong passwords from five different addresses lock the account's token door."""
    user = UserFactory()
    for n in range(5):
        response = api_client.post(
            TOKEN_URL, {"email": user.email, "password": "wrong"}, format="json", REMOTE_ADDR=f"10.0.0.{n}"
        )
        assert_error(response, 401, "invalid_credentials")
    # Even the right password from a sixth address is refused while the account is throttled.
    response = api_client.post(
        TOKEN_URL, {"email": user.email, "password": PASSWORD}, format="json", REMOTE_ADDR="10.0.0.99"
    )
    assert_error(response, 429, "too_many_attempts")
    assert not ApiToken.objects.filter(user=user).exists()


def test_a_client_rotating_x_forwarded_for_is_still_throttled(api_client):
    codes = []
    for n in range(12):
        response = api_client.post(
            TOKEN_URL,
            {"email": f"nobody{n}@example.com", "password": "wrong"},
            format="json",
            HTTP_X_FORWARDED_FOR=f"198.51.100.{n}",
        )
        codes.append(response.status_code)
    assert 429 in codes, codes
    assert codes[-1] == 429


def test_throttle_identity_is_the_socket_address_without_trusted_proxies():
    request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR="203.0.113.7", REMOTE_ADDR="192.0.2.1")
    assert AnonRateThrottle().get_ident(request) == "192.0.2.1"


# --- tokens: lifetime, rotation, list and revoke ------------------------------------------


def test_an_expired_token_is_401(api_client):
    user = UserFactory()
    key = services.user_token_create(user=user)
    ApiToken.objects.filter(user=user).update(expires_at=timezone.now() - timedelta(seconds=1))
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert_error(api_client.get("/api/v1/me/"), 401, "authentication_failed")


def test_tokens_get_the_configured_lifetime(settings):
    settings.API_TOKEN_LIFETIME = timedelta(days=7)
    user = UserFactory()
    services.user_token_create(user=user)
    token = ApiToken.objects.get(user=user)
    assert timedelta(days=7) - timedelta(minutes=1) < token.expires_at - timezone.now() <= timedelta(days=7)


def test_tokens_are_stored_hashed():
    user = UserFactory()
    key = services.user_token_create(user=user)
    token = ApiToken.objects.get(user=user)
    assert key not in (token.key_hash, token.prefix)
    assert key.startswith(token.prefix)


def test_a_password_change_revokes_every_token(api_client):
    user = UserFactory()
    key = services.user_token_create(user=user)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api_client.get("/api/v1/me/").status_code == 200
    user.set_password("another-horse-battery-7")
    user.save()
    assert_error(api_client.get("/api/v1/me/"), 401, "authentication_failed")


def test_the_password_change_page_revokes_tokens(client):
    user = UserFactory()
    services.user_token_create(user=user)
    client.force_login(user)
    new = "another-horse-battery-7"
    response = client.post(
        "/accounts/password/change/", {"oldpassword": PASSWORD, "password1": new, "password2": new}
    )
    assert response.status_code == 302
    assert not ApiToken.objects.filter(user=user).exists()


def test_delete_revokes_the_current_token(api_client):
    user = UserFactory()
    keep = services.user_token_create(user=user)
    key = services.user_token_create(user=user)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api_client.delete(TOKEN_URL).status_code == 204
    assert_error(api_client.get("/api/v1/me/"), 401, "authentication_failed")
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {keep}")
    assert api_client.get("/api/v1/me/").status_code == 200


def test_list_and_revoke_tokens(api_client):
    user = UserFactory()
    other = services.user_token_create(user=user, name="laptop")
    key = services.user_token_create(user=user, name="script")
    stranger = ApiToken.objects.get(key_hash=ApiToken.hash(services.user_token_create(user=UserFactory())))
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    listing = api_client.get("/api/v1/auth/tokens/").json()
    assert sorted(t["name"] for t in listing) == ["laptop", "script"]
    assert [t["current"] for t in listing if t["name"] == "script"] == [True]
    assert all(set(t) == {"id", "name", "prefix", "created_at", "expires_at", "current"} for t in listing)
    laptop = next(t for t in listing if t["name"] == "laptop")
    assert other.startswith(laptop["prefix"])
    assert api_client.delete(f"/api/v1/auth/tokens/{laptop['id']}/").status_code == 204
    assert [t["name"] for t in api_client.get("/api/v1/auth/tokens/").json()] == ["script"]
    assert_error(api_client.delete(f"/api/v1/auth/tokens/{stranger.pk}/"), 404, "not_found")
    assert ApiToken.objects.filter(pk=stranger.pk).exists()


def test_settings_page_lists_creates_and_revokes_tokens(client):
    user = UserFactory()
    services.user_token_create(user=user, name="old laptop", source=ApiToken.Source.CREDENTIALS)
    client.force_login(user)
    client.post("/accounts/reauthenticate/", {"password": PASSWORD})  # making a token needs it
    page = client.get("/account/settings/")
    assert b"old laptop" in page.content
    created = client.post("/account/tokens/", {"name": "new script"}, follow=True)
    assert created.status_code == 200
    token = ApiToken.objects.get(user=user, name="new script")
    # The key is shown once, on the page after creation.
    assert token.prefix.encode() in created.content
    old = ApiToken.objects.get(user=user, name="old laptop")
    response = client.post(f"/account/tokens/{old.pk}/revoke/")
    assert response.status_code == 302
    assert not ApiToken.objects.filter(pk=old.pk).exists()
    stranger_token = ApiToken.objects.get(
        key_hash=ApiToken.hash(services.user_token_get_or_create(user=UserFactory()))
    )
    assert client.post(f"/account/tokens/{stranger_token.pk}/revoke/").status_code == 404


# --- the admin goes through allauth -------------------------------------------------------


def test_admin_login_goes_through_allauth(client):
    staff = UserFactory(is_staff=True, is_superuser=True)
    response = client.get("/admin/login/?next=/admin/wallet/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/admin/wallet/"
    # A password posted to the admin's own form does not log anybody in.
    response = client.post("/admin/login/", {"username": staff.email, "password": PASSWORD})
    assert "_auth_user_id" not in client.session
    assert response.status_code == 302


def test_admin_login_refuses_an_unsafe_next(client):
    response = client.get("/admin/login/?next=https://evil.example.com/")
    assert response["Location"] == "/accounts/login/?next=/admin/"


def test_staff_with_mfa_reach_the_admin_only_after_the_second_factor(client):
    staff = UserFactory(is_staff=True, is_superuser=True)
    TOTP.activate(staff, generate_totp_secret())
    response = client.post("/accounts/login/?next=/admin/", {"login": staff.email, "password": PASSWORD})
    assert response["Location"] == "/accounts/2fa/authenticate/"
    assert client.get("/admin/").status_code == 302
    assert "_auth_user_id" not in client.session


# --- idle sessions end --------------------------------------------------------------------


def test_an_idle_session_is_logged_out(client, settings):
    settings.SESSION_IDLE_TIMEOUT = timedelta(minutes=30)
    user = UserFactory()
    client.force_login(user)
    assert client.get("/account/settings/").status_code == 200
    session = client.session
    session["last_activity"] = int(time.time()) - 31 * 60
    session.save()
    response = client.get("/account/settings/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert "_auth_user_id" not in client.session


def test_an_active_session_stays(client, settings):
    settings.SESSION_IDLE_TIMEOUT = timedelta(minutes=30)
    client.force_login(UserFactory())
    session = client.session
    session["last_activity"] = int(time.time()) - 29 * 60
    session.save()
    assert client.get("/account/settings/").status_code == 200
    assert client.session["last_activity"] >= int(time.time()) - 5


# --- staff actions on users ---------------------------------------------------------------


STAFF_PERMISSIONS = ["verify_user", "suspend_user", "reactivate_user", "soft_delete_user", "restore_user"]


def staff_with(*codenames: str) -> User:
    staff = UserFactory(is_staff=True)
    perms = Permission.objects.filter(
        content_type__app_label="users", codename__in=["view_user", "change_user", *codenames]
    )
    staff.user_permissions.set(perms)
    return User.objects.get(pk=staff.pk)


def test_each_user_action_needs_its_own_permission(client):
    staff = staff_with("suspend_user")
    client.force_login(staff)
    page = client.get("/admin/users/user/")
    assert page.status_code == 200
    actions = [choice[0] for choice in page.context["action_form"].fields["action"].choices]
    assert "action_user_suspend" in actions
    for name in ("user_verify", "user_reactivate", "user_soft_delete", "user_restore"):
        assert f"action_{name}" not in actions
    target = UserFactory()
    response = client.post(
        "/admin/users/user/", {"action": "action_user_verify", "_selected_action": [target.pk]}
    )
    target.refresh_from_db()
    assert target.verification_level == User.VerificationLevel.IDENTITY  # unchanged, not FULL
    assert response.status_code in (200, 302)


@pytest.mark.parametrize(
    "action,codename,before,check",
    [
        ("user_suspend", "suspend_user", None, lambda u: u.status == User.Status.SUSPENDED),
        (
            "user_verify",
            "verify_user",
            None,
            lambda u: u.verification_level == User.VerificationLevel.IDENTITY,
        ),
        (
            "user_reactivate",
            "reactivate_user",
            services.user_suspend,
            lambda u: u.status == User.Status.ACTIVE,
        ),
        ("user_soft_delete", "soft_delete_user", None, lambda u: u.deleted_at is not None),
        ("user_restore", "restore_user", services.user_soft_delete, lambda u: u.deleted_at is None),
    ],
)
def test_user_actions_are_audited(client, audit_dir, action, codename, before, check):
    staff = staff_with(codename)
    client.force_login(staff)
    target = UserFactory(verification_level=User.VerificationLevel.EMAIL)
    if before is not None:
        before(user=target)
    response = client.post(
        "/admin/users/user/", {"action": f"action_{action}", "_selected_action": [target.pk]}
    )
    assert response.status_code == 302
    target = User.all_objects.get(pk=target.pk)
    assert check(target)
    records = [r for r in audit_read("staff") if r["action"] == action]
    assert len(records) == 1
    assert records[0]["actor_id"] == staff.pk
    assert records[0]["user_id"] == target.pk
    assert LogEntry.objects.filter(user=staff, object_id=str(target.pk)).exists()


def test_the_admin_form_cannot_change_limits_status_or_self_exclusion(client):
    admin_user = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin_user)
    target = UserFactory()
    page = client.get(f"/admin/users/user/{target.pk}/change/")
    assert page.status_code == 200
    form_fields = set(page.context["adminform"].form.fields)
    for name in (
        "max_bet_size",
        "daily_bet_limit",
        "monthly_bet_limit",
        "self_excluded_until",
        "status",
        "verification_level",
    ):
        assert name not in form_fields, name


def test_staff_lower_limits_through_an_audited_action(client, audit_dir):
    staff = staff_with("change_user_limits")
    client.force_login(staff)
    target = UserFactory()
    url = f"/admin/users/user/{target.pk}/limits/"
    assert client.get(url).status_code == 200
    response = client.post(url, {"daily_bet_limit": "100.00", "reason": "affordability check"})
    assert response.status_code == 302
    target.refresh_from_db()
    assert str(target.daily_bet_limit.amount) == "100.00"
    [record] = [r for r in audit_read("staff") if r["action"] == "user_limits_lower"]
    assert record["actor_id"] == staff.pk
    assert record["changes"] == {"daily_bet_limit": {"from_minor": 500000, "to_minor": 10000}}
    assert record["reason"] == "affordability check"
    # A raise is not the staff's to make: it waits out the bettor's own cooling-off.
    refused = client.post(url, {"daily_bet_limit": "9000.00", "reason": "asked nicely"})
    assert refused.status_code == 200
    target.refresh_from_db()
    assert str(target.daily_bet_limit.amount) == "100.00"


def test_the_limits_page_shows_a_refusal_on_its_field_and_logs_only_a_change(client, audit_dir):
    client.force_login(staff_with("change_user_limits"))
    target = UserFactory()
    url = f"/admin/users/user/{target.pk}/limits/"
    change_page = f"/admin/users/user/{target.pk}/change/"
    lowered = client.post(url, {"daily_bet_limit": "100.00", "reason": "affordability check"})
    assert (lowered.status_code, lowered["Location"]) == (302, change_page)
    refused = client.post(url, {"daily_bet_limit": "9000.00", "reason": "asked nicely"})
    assert refused.status_code == 200
    assert refused.context["form"].errors == {
        "daily_bet_limit": ["Staff can only lower a limit; a raise is the bettor's, after the cooling-off."]
    }
    same = client.post(url, {"daily_bet_limit": "100.00", "reason": "checked again"}, follow=True)
    assert same.redirect_chain == [(change_page, 302)]
    # (the success message of the first post was shown on the refused page)
    assert [(m.level_tag, m.message) for m in same.context["messages"]] == [("info", "Nothing to change.")]
    log = LogEntry.objects.filter(object_id=str(target.pk)).values_list("change_message", flat=True)
    assert list(log) == ["Lowered limits: daily_bet_limit"]


def test_limits_action_needs_its_permission(client):
    staff = staff_with()
    client.force_login(staff)
    target = UserFactory()
    assert client.get(f"/admin/users/user/{target.pk}/limits/").status_code == 403


def test_staff_see_tokens_without_their_keys(client):
    admin_user = UserFactory(is_staff=True, is_superuser=True)
    key = services.user_token_create(user=UserFactory(), name="phone")
    client.force_login(admin_user)
    page = client.get("/admin/users/apitoken/")
    assert page.status_code == 200
    assert key[: ApiToken.PREFIX_LENGTH].encode() in page.content
    assert key.encode() not in page.content
    assert ApiToken.hash(key).encode() not in page.content
