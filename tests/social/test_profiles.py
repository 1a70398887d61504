"""Profiles: one per user (new and existing), handle rules, settings validation."""

import importlib

import pytest
from django.apps import apps as global_apps
from django.db import IntegrityError, connection, transaction

from betthat.core.errors import ApplicationError
from social import services
from social.handles import handle_base_from
from social.models import Profile
from tests.factories import UserFactory
from tests.social.factories import profile

pytestmark = pytest.mark.django_db


def test_a_new_user_gets_a_private_profile_with_a_handle_from_the_name(settings):
    user = UserFactory(name="Zoë O'Brien-Smith")
    created = Profile.objects.get(user=user)
    assert created.handle == "zoe_o_brien_smith"
    assert (created.is_public, created.stake_visibility, created.live_delay_sec) == (False, "hidden", 300)


def test_namesakes_get_numbered_handles_and_short_names_fall_back_to_the_email():
    first, second = UserFactory(name="Al Bo"), UserFactory(name="Al Bo")
    assert (profile(first).handle, profile(second).handle) == ("al_bo", "al_bo2")
    assert profile(UserFactory(name="X", email="sharp.money@example.com")).handle == "sharp_money"
    assert handle_base_from("", "") == "bettor"
    assert handle_base_from("Admin", "a@b.c") == "bettor"  # reserved word and a too-short email stem


def test_the_data_migration_creates_profiles_for_existing_users():
    users = [UserFactory(name="Old Timer"), UserFactory(name="Old Timer")]
    Profile.objects.filter(user__in=users).delete()
    migration = importlib.import_module(
        "social.migrations.0002_profiles_for_existing_users_and_append_only_record"
    )
    migration.create_profiles(global_apps, connection.schema_editor())
    handles = sorted(Profile.objects.filter(user__in=users).values_list("handle", flat=True))
    assert handles == ["old_timer", "old_timer2"]


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("ab", "invalid_handle"),
        ("a" * 31, "invalid_handle"),
        ("has space", "invalid_handle"),
        ("dash-ed", "invalid_handle"),
        ("émile", "invalid_handle"),
        ("admin", "invalid_handle"),
        ("Support", "invalid_handle"),
    ],
)
def test_bad_handles_are_refused_and_change_nothing(raw, code):
    user = UserFactory(name="Keep Me")
    with pytest.raises(ApplicationError) as error:
        services.profile_update(user=user, handle=raw, bio="new bio")
    assert error.value.code == code
    assert (profile(user).handle, profile(user).bio) == ("keep_me", "")


def test_handles_are_unique_whatever_the_case():
    taken, user = UserFactory(name="Sharp One"), UserFactory()
    with pytest.raises(ApplicationError) as error:
        services.profile_update(user=user, handle="SHARP_ONE")
    assert (error.value.code, error.value.status) == ("handle_taken", 409)
    services.profile_update(user=user, handle="@Sharp_Two")
    assert profile(user).handle == "sharp_two"
    assert profile(taken).handle == "sharp_one"


def test_the_database_refuses_a_second_handle_in_another_case_and_a_bad_shape():
    a, b = UserFactory(name="Case Test"), UserFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Profile.objects.filter(user=b).update(handle="CASE_TEST")
    with pytest.raises(IntegrityError), transaction.atomic():
        Profile.objects.filter(user=a).update(handle="no")


@pytest.mark.parametrize("delay", [-1, 86_401, "ten", "1.5", True])
def test_the_delay_is_0_to_24_hours(delay):
    user = UserFactory()
    with pytest.raises(ApplicationError) as error:
        services.profile_update(user=user, live_delay_sec=delay)
    assert error.value.code == "validation_error" and "live_delay_sec" in error.value.details
    assert profile(user).live_delay_sec == 300


def test_settings_are_saved_and_bio_is_plain_text_of_280_characters():
    user = UserFactory()
    services.profile_update(
        user=user, live_delay_sec=0, stake_visibility="rounded", bio="  <b>Hi</b>\r\nthere \x07 "
    )
    saved = profile(user)
    assert (saved.live_delay_sec, saved.stake_visibility, saved.bio) == (0, "rounded", "<b>Hi</b>\nthere")
    services.profile_update(user=user, live_delay_sec=86_400, bio="x" * 280)
    with pytest.raises(ApplicationError):
        services.profile_update(user=user, bio="x" * 281)
    with pytest.raises(ApplicationError):
        services.profile_update(user=user, stake_visibility="loud")
    assert profile(user).bio == "x" * 280 and profile(user).live_delay_sec == 86_400


def test_going_public_stamps_the_time_and_going_private_clears_it():
    user = UserFactory()
    services.profile_update(user=user, is_public=True)
    assert profile(user).public_since is not None
    services.profile_update(user=user, is_public=False)
    assert profile(user).public_since is None and not profile(user).is_public


# --- issue 18 item 3: a handle change is no oracle for private profiles -----------------------


def test_a_held_handle_gets_one_answer_whoever_holds_it():
    """On the old code the answer was "This handle is taken." for private profiles too, as
    often as anyone liked to ask."""
    private, public, asker = UserFactory(), UserFactory(), UserFactory()
    services.profile_update(user=private, handle="quiet_one", is_public=False)
    services.profile_update(user=public, handle="loud_one", is_public=True)
    answers = []
    for wanted in ("quiet_one", "loud_one"):
        with pytest.raises(ApplicationError) as error:
            services.profile_update(user=asker, handle=wanted)
        answers.append((error.value.code, error.value.status, error.value.message, error.value.details))
    assert (
        answers[0]
        == answers[1]
        == (
            "handle_taken",
            409,
            "This handle is not available.",
            {"handle": ["This handle is not available."]},
        )
    )


def test_handle_questions_are_limited_per_user(settings):
    settings.SOCIAL_HANDLE_CHANGES_PER_HOUR = 3
    holder, asker, other = UserFactory(), UserFactory(), UserFactory()
    services.profile_update(user=holder, handle="hidden_gem", is_public=False)
    before = profile(asker).handle
    for attempt in ("hidden_gem", "free_one_a", "hidden_gem"):
        try:
            services.profile_update(user=asker, handle=attempt)
        except ApplicationError as error:
            assert error.code == "handle_taken"
    assert profile(asker).handle == "free_one_a"
    with pytest.raises(ApplicationError) as error:
        services.profile_update(user=asker, handle="free_two_b", bio="not saved either")
    assert (error.value.code, error.value.status) == ("rate_limited", 429)
    assert 0 < error.value.details["retry_after"] <= 3600
    assert (profile(asker).handle, profile(asker).bio) == ("free_one_a", "")
    # keeping one's handle, or changing other fields, asks nothing
    services.profile_update(user=asker, handle="free_one_a", bio="still here")
    assert profile(asker).bio == "still here" and before != "free_one_a"
    # the limit is per asker
    services.profile_update(user=other, handle="free_three_c")
    assert profile(other).handle == "free_three_c"


def test_the_api_refuses_the_question_past_the_limit_in_the_error_shape(settings, token_client_for):
    settings.SOCIAL_HANDLE_CHANGES_PER_HOUR = 1
    asker = UserFactory()
    client = token_client_for(asker)
    assert client.patch("/api/v1/me/profile/", {"handle": "first_try"}, format="json").status_code == 200
    refused = client.patch("/api/v1/me/profile/", {"handle": "second_try"}, format="json")
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limited"
    assert profile(asker).handle == "first_try"
