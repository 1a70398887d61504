from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from chat import services
from tests.factories import UserFactory


@pytest.fixture
def lobby(db):
    return services.room_lobby()


@pytest.fixture
def moderator(db):
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="moderate_chat"))
    # a fresh instance: Django caches permissions per object
    return type(staff).objects.get(pk=staff.pk)


@pytest.fixture
def generous_limits(settings):
    settings.CHAT_RATE_MESSAGES = 1000
