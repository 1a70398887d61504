"""Staff moderation of profiles needs `social.moderate_profile` on every way in (issue 18
item 7) and is audited in the "social-staff" stream, as chat's moderation is in "chat"."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.auth.models import Permission
from django.test import Client, TestCase

from betthat.core.audit import audit_read
from betthat.core.errors import ApplicationError
from social import services
from social.models import Profile
from tests.factories import UserFactory
from tests.social.factories import bettor, profile

pytestmark = pytest.mark.django_db

ACTIONS = {
    "hide": lambda actor, pk: services.profile_hide(actor=actor, profile_id=pk, reason="spam"),
    "restore": lambda actor, pk: services.profile_restore(actor=actor, profile_id=pk),
    "reset_bio": lambda actor, pk: services.profile_reset_bio(actor=actor, profile_id=pk, reason="ads"),
}


def _staff(*codenames: str):
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="social", codename__in=codenames)
    )
    return type(staff).objects.get(pk=staff.pk)  # a fresh instance: no cached permissions


def _bettor_with_bio():
    handle = f"mod_{uuid.uuid4().hex[:10]}"  # the audit store outlives the test database
    user = bettor(handle=handle)
    services.profile_update(user=user, bio="buy my picks")
    return user, handle


def _snapshot(user):
    p = profile(user)
    return (p.hidden_at, p.hidden_reason, p.bio)


def test_the_moderate_profile_permission_exists():
    permission = Permission.objects.get(content_type__app_label="social", codename="moderate_profile")
    assert permission.name == "Can hide and restore profiles and reset bios"


@pytest.mark.parametrize("action", sorted(ACTIONS))
@pytest.mark.parametrize("who", ["staff_with_change_profile", "bettor"])
def test_every_moderation_action_needs_the_permission(action, who):
    """On the old code any staff member, and any user at all, could call these."""
    actor = _staff("view_profile", "change_profile") if who.startswith("staff") else UserFactory()
    user, handle = _bettor_with_bio()
    if action == "restore":
        Profile.objects.filter(user_id=user.pk).update(hidden_at="2026-01-01T00:00:00Z", hidden_reason="x")
    before = _snapshot(user)
    with TestCase.captureOnCommitCallbacks(execute=True), pytest.raises(ApplicationError) as error:
        ACTIONS[action](actor, profile(user).pk)
    assert (error.value.code, error.value.status) == ("permission_denied", 403)
    assert _snapshot(user) == before
    assert [line for line in audit_read("social-staff") if line.get("handle") == handle] == []


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_a_moderator_with_the_permission_acts_and_is_audited(action):
    moderator = _staff("moderate_profile")
    user, handle = _bettor_with_bio()
    with TestCase.captureOnCommitCallbacks(execute=True):
        ACTIONS[action](moderator, profile(user).pk)
    after = profile(user)
    expected = {
        "hide": (after.hidden_at is not None and after.hidden_reason == "spam"),
        "restore": after.hidden_at is None,
        "reset_bio": after.bio == "",
    }
    assert expected[action] is True
    lines = [line for line in audit_read("social-staff") if line.get("handle") == handle]
    assert [(line["action"], line["actor_id"]) for line in lines] == [(f"profile_{action}", moderator.pk)]


def _admin_client(staff):
    client = Client()
    client.force_login(staff)
    return client


def test_the_admin_offers_moderation_only_with_the_permission():
    user, handle = _bettor_with_bio()
    pk = profile(user).pk
    without = _admin_client(_staff("view_profile", "change_profile"))
    page = without.get("/admin/social/profile/").content.decode()
    assert "hide_profiles" not in page and "reset_bios" not in page and "restore_profiles" not in page
    for action in ("hide_profiles", "reset_bios"):
        without.post(
            "/admin/social/profile/",
            {"action": action, "_selected_action": [pk], "apply": "1", "reason": "spam"},
        )
    assert _snapshot(user) == (None, "", "buy my picks")

    moderator = _staff("view_profile", "change_profile", "moderate_profile")
    with_permission = _admin_client(moderator)
    page = with_permission.get("/admin/social/profile/").content.decode()
    assert "hide_profiles" in page and "reset_bios" in page and "restore_profiles" in page
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = with_permission.post(
            "/admin/social/profile/",
            {"action": "hide_profiles", "_selected_action": [pk], "apply": "1", "reason": "spam"},
        )
    assert response.status_code in (200, 302)
    assert profile(user).hidden_at is not None and profile(user).hidden_reason == "spam"
    lines = [line for line in audit_read("social-staff") if line.get("handle") == handle]
    assert [(line["action"], line["actor_id"], line["reason"]) for line in lines] == [
        ("profile_hide", moderator.pk, "spam")
    ]
