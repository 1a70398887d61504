"""Look-alike and recycled handles are refused (issue 18, item 11): a handle that reads
like one in use, or that another account gave up within the cooling period, cannot be
taken, so nobody inherits another bettor's name and the trust of their followers."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from betthat.core.errors import ApplicationError
from betthat.users.services import user_soft_delete
from social import services
from social.handles import handle_skeleton, handle_skeleton_sql
from social.models import HandleRelease, Profile
from tests.factories import UserFactory
from tests.social.factories import bettor, profile

LOOK_ALIKES = [
    ("alice_sharp", "a1ice_sharp"),  # 1 / l
    ("alice_sharp", "allce_sharp"),  # i / l
    ("coop_picks", "c00p_picks"),  # 0 / o
    ("modern_bets", "rnodern_bets"),  # rn / m
    ("wave_rider", "vvave_rider"),  # vv / w
    ("sharp_money", "sharp__money"),  # one underscore or two
    ("sharp_money", "sharp_money_"),  # a trailing underscore
    ("alice_sharp", "ALICE_SHARP"),  # case
    ("alice_sharp", "\uff41\uff4c\uff49\uff43\uff45_sharp"),  # full-width (NFKC)
    ("alice_sharp", "\u0430lice_sharp"),  # Cyrillic a
    ("poker_ace", "p\u043e\u043a\u0435r_\u0430\u0441\u0435"),  # Cyrillic o, k, e, a, c
]
DIFFERENT = [("alice_sharp", "alicia_sharp"), ("bob_bets", "rob_bets"), ("sharp1", "sharp2")]


@pytest.mark.parametrize(("first", "second"), LOOK_ALIKES)
def test_look_alikes_share_a_skeleton(first, second):
    assert handle_skeleton(first) == handle_skeleton(second)


@pytest.mark.parametrize(("first", "second"), DIFFERENT)
def test_different_handles_keep_different_skeletons(first, second):
    assert handle_skeleton(first) != handle_skeleton(second)


@pytest.mark.django_db
def test_the_database_computes_the_same_skeleton_for_stored_handles():
    handles = ["a1ice_sharp", "c00p_picks", "rnodern_bets", "vvave_rider", "sharp__money_", "_i1l0o_rn_vv_"]
    for handle in handles:
        Profile.objects.filter(user=UserFactory()).update(handle=handle)
    stored = dict(
        Profile.objects.filter(handle__in=handles)
        .annotate(skeleton=handle_skeleton_sql())
        .values_list("handle", "skeleton")
    )
    assert stored == {handle: handle_skeleton(handle) for handle in handles}


def refused(user, handle: str) -> tuple[str, int]:
    before = profile(user).handle
    with pytest.raises(ApplicationError) as error:
        services.profile_update(user=user, handle=handle)
    assert profile(user).handle == before  # nothing changed
    return error.value.code, error.value.status


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("typed", "code", "status"),
    [
        ("a1ice_sharp", "handle_confusable", 409),
        ("allce_sharp", "handle_confusable", 409),
        ("alice__sharp", "handle_confusable", 409),
        ("ALICE_SHARP", "handle_taken", 409),
        ("\uff41\uff4c\uff49\uff43\uff45_sharp", "handle_taken", 409),  # full width is the same handle
        ("\u0430lice_sharp", "invalid_handle", 400),  # Cyrillic never becomes a handle
    ],
)
def test_a_look_alike_of_a_handle_in_use_is_refused(typed, code, status):
    bettor(handle="alice_sharp")
    mallory = bettor(handle="mallory")
    assert refused(mallory, typed) == (code, status)


@pytest.mark.django_db
def test_the_api_refuses_a_look_alike_in_the_error_shape():
    bettor(handle="coop_picks")
    mallory = bettor(handle="mallory_api")
    client = APIClient()
    client.force_authenticate(mallory)
    response = client.patch("/api/v1/me/profile/", {"handle": "c00p_picks"}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "handle_confusable"
    assert list(response.json()["error"]["details"]) == ["handle"]
    assert profile(mallory).handle == "mallory_api"


@pytest.mark.django_db
def test_a_renamed_handle_cools_for_others_but_not_for_its_owner(settings):
    settings.SOCIAL_HANDLE_COOLING_DAYS = 90
    alice, mallory = bettor(handle="alice_sharp"), bettor(handle="mallory")
    services.profile_update(user=alice, handle="alice_new")
    release = HandleRelease.objects.get(handle="alice_sharp")
    assert (release.handle, release.user_id, release.reason) == ("alice_sharp", alice.pk, "renamed")
    assert refused(mallory, "alice_sharp") == ("handle_cooling", 409)
    assert refused(mallory, "a1ice_sharp") == ("handle_cooling", 409)  # nor a look-alike of it
    with time_machine.travel(release.released_at + timedelta(days=89), tick=False):
        assert refused(mallory, "alice_sharp") == ("handle_cooling", 409)
    # the owner may go back to it at any time
    services.profile_update(user=alice, handle="alice_sharp")
    assert profile(alice).handle == "alice_sharp"
    services.profile_update(user=alice, handle="alice_elsewhere")
    with time_machine.travel(timezone.now() + timedelta(days=91), tick=False):
        services.profile_update(user=mallory, handle="alice_sharp")  # cooled: free again
    assert profile(mallory).handle == "alice_sharp"


@pytest.mark.django_db
def test_a_deleted_accounts_handle_cools_and_a_soft_deleted_one_stays_taken():
    gone = bettor(handle="gone_tipster", fund=0)
    kept, mallory = bettor(handle="kept_tipster"), bettor(handle="mallory")
    gone.delete()  # deleted for good (no bets): the profile goes with the user
    assert refused(mallory, "gone_tipster") == ("handle_cooling", 409)
    assert HandleRelease.objects.get(handle="gone_tipster").reason == "deleted"
    user_soft_delete(user=kept)
    assert refused(mallory, "kept_tipster") == ("handle_taken", 409)


@pytest.mark.django_db
def test_a_new_users_handle_is_numbered_past_look_alikes_and_cooling_handles():
    bettor(handle="bob")
    assert profile(UserFactory(name="B0b")).handle == "b0b2"  # "b0b" reads as "bob"
    renamer = bettor(handle="sharp_sam")
    services.profile_update(user=renamer, handle="sam_elsewhere")
    assert profile(UserFactory(name="Sharp Sam")).handle == "sharp_sam2"


LOOK_ALIKE_RENAMES = [
    "sharp_alice",
    "sharp_a1ice",
    "sharp_allce",
    "sharp__alice",
    "sharp_alice_",
    "sharp_al1ce",
    "sharp_ailce",
    "sharp_a11ce",
]


@pytest.mark.django_db(transaction=True)
def test_concurrent_look_alike_renames_let_exactly_one_through():
    """Eight bettors rename at the same moment to eight spellings of one skeleton; the
    advisory lock on the skeleton lets exactly one through."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connections

    users = [bettor(handle=f"racer_{index}", fund=0) for index in range(len(LOOK_ALIKE_RENAMES))]
    barrier = threading.Barrier(len(users))

    def rename(index: int) -> str:
        try:
            barrier.wait(timeout=30)
            services.profile_update(user=users[index], handle=LOOK_ALIKE_RENAMES[index])
            return "ok"
        except ApplicationError as error:
            return error.code
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=len(users)) as pool:
        results = list(pool.map(rename, range(len(users))))
    assert results.count("ok") == 1
    assert set(results) - {"ok"} <= {"handle_confusable", "handle_taken"}
    skeletons = {handle_skeleton(p.handle) for p in Profile.objects.filter(user__in=users)}
    assert handle_skeleton("sharp_alice") in skeletons
    assert (
        sum(handle_skeleton(p.handle) == handle_skeleton("sharp_alice") for p in Profile.objects.all()) == 1
    )
