"""The moderation queue in the admin: actions go through the services and are audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from chat import services
from chat.models import Message, Mute, Report
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(moderator):
    client = Client()
    client.force_login(moderator)
    return client


def _reported(lobby, author):
    message, _ = services.message_post(user=author, room=lobby, text="spammy spam")
    services.message_report(user=UserFactory(), message=message, reason="spam")
    return message, Report.objects.get()


def test_moderator_hides_from_the_queue(staff_client, moderator, lobby, user):
    from django.contrib.auth.models import Permission

    moderator.user_permissions.add(*Permission.objects.filter(codename__in=["view_report", "change_report"]))
    message, report = _reported(lobby, user)
    page = staff_client.get("/admin/chat/report/")
    assert page.status_code == 200 and "spammy spam" in page.content.decode()
    response = staff_client.post(
        "/admin/chat/report/", {"action": "hide_messages", "_selected_action": [report.pk]}, follow=True
    )
    assert response.status_code == 200
    assert Message.objects.get(msg_id=message.msg_id).flags.get("hidden") is True
    assert Report.objects.get().status == Report.Status.HIDDEN


def test_staff_without_the_permission_cannot_moderate(lobby, user):
    from django.contrib.auth.models import Permission

    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(*Permission.objects.filter(codename__in=["view_report", "change_report"]))
    client = Client()
    client.force_login(staff)
    message, report = _reported(lobby, user)
    client.post("/admin/chat/report/", {"action": "hide_messages", "_selected_action": [report.pk]})
    assert "hidden" not in Message.objects.get(msg_id=message.msg_id).flags


def test_adding_a_mute_in_the_admin_goes_through_the_service(staff_client, moderator, user):
    from django.contrib.auth.models import Permission

    moderator.user_permissions.add(*Permission.objects.filter(codename__in=["add_mute", "view_mute"]))
    until = (timezone.now() + timedelta(hours=2)).strftime("%Y-%m-%d %H:%M:%S")
    date, time = until.split()
    response = staff_client.post(
        "/admin/chat/mute/add/",
        {"user": user.pk, "room": "", "until_0": date, "until_1": time, "reason": "flood"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    mute = Mute.objects.get()
    assert mute.created_by_id == moderator.pk and mute.room is None
    self_mute = staff_client.post(
        "/admin/chat/mute/add/", {"user": moderator.pk, "room": "", "until_0": date, "until_1": time}
    )
    assert self_mute.status_code == 200 and "You cannot mute yourself" in self_mute.content.decode()
    assert Mute.objects.count() == 1
