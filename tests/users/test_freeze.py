"""Staff freeze and unfreeze a user's money from the admin: its own permission, a reason,
the admin log and the audit store."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.core.files.storage import storages
from django.test import Client

from betthat.core.audit import audit_read
from betthat.core.errors import ApplicationError
from betthat.users import services
from betthat.users.models import User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


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


def staff_with(*codenames):
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_user", "change_user", *codenames])
    )
    client = Client()
    client.force_login(staff)
    return staff, client


def test_freezing_needs_its_own_permission(user):
    _staff, client = staff_with()
    assert client.get(f"/admin/users/user/{user.pk}/freeze/").status_code == 403
    assert client.post(f"/admin/users/user/{user.pk}/freeze/", {"reason": "x"}).status_code == 403
    assert User.objects.get(pk=user.pk).frozen_at is None


def test_staff_freeze_and_unfreeze_with_a_reason_audited(user, audit_dir):
    staff, client = staff_with("freeze_user")
    change = client.get(f"/admin/users/user/{user.pk}/change/")
    assert f"/admin/users/user/{user.pk}/freeze/".encode() in change.content
    empty = client.post(f"/admin/users/user/{user.pk}/freeze/", {"reason": ""})
    assert empty.status_code == 200 and User.objects.get(pk=user.pk).frozen_at is None
    response = client.post(f"/admin/users/user/{user.pk}/freeze/", {"reason": "stolen card reported"})
    assert response.status_code == 302
    frozen = User.objects.get(pk=user.pk)
    assert frozen.frozen_at is not None and frozen.frozen_reason == "stolen card reported"
    client.post(f"/admin/users/user/{user.pk}/freeze/", {"reason": "card owner confirmed"})
    assert User.objects.get(pk=user.pk).frozen_at is None
    records = [(r["action"], r["actor_id"], r["user_id"], r["reason"]) for r in audit_read("staff")]
    assert records == [
        ("user_freeze", staff.pk, user.pk, "stolen card reported"),
        ("user_unfreeze", staff.pk, user.pk, "card owner confirmed"),
    ]
    messages = list(LogEntry.objects.filter(object_id=str(user.pk)).values_list("change_message", flat=True))
    assert any("Froze" in m for m in messages) and any("Unfroze" in m for m in messages)


def test_the_user_list_filters_on_frozen_money(user, staff_user):
    services.user_freeze(user=user, actor=staff_user, reason="dispute")
    other = UserFactory()
    _staff, client = staff_with()

    def listed(query: str) -> set[int]:
        response = client.get(f"/admin/users/user/{query}")
        assert response.status_code == 200
        return {row.pk for row in response.context["cl"].result_list} & {user.pk, other.pk}

    assert listed("?frozen=yes") == {user.pk}
    assert listed("?frozen=no") == {other.pk}
    assert listed("") == {user.pk, other.pk}


def test_freeze_is_idempotent_and_needs_a_reason(user, staff_user):
    with pytest.raises(ApplicationError) as refused:
        services.user_freeze(user=user, actor=staff_user, reason="  ")
    assert refused.value.code == "reason_required"
    services.user_freeze(user=user, actor=staff_user, reason="first")
    first = User.objects.get(pk=user.pk).frozen_at
    services.user_freeze(user=user, actor=staff_user, reason="second")
    fresh = User.objects.get(pk=user.pk)
    assert (fresh.frozen_at, fresh.frozen_reason) == (first, "first")
