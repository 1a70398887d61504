import asyncio

import pytest
from channels.testing import WebsocketCommunicator

from betthat.asgi import application
from betthat.core.tasks import notify_task
from tests.factories import UserFactory


async def connect(headers):
    communicator = WebsocketCommunicator(application, "/ws/notifications/", headers=headers)
    connected, _ = await communicator.connect(timeout=5)
    return communicator, connected


@pytest.mark.django_db(transaction=True)
@pytest.mark.celery_worker
async def test_worker_notify_reaches_only_that_users_socket(celery_worker_process, ws_headers_for):
    from asgiref.sync import sync_to_async

    alice, bob = await sync_to_async(lambda: (UserFactory(), UserFactory()))()
    alice_headers = await sync_to_async(ws_headers_for)(alice)
    bob_headers = await sync_to_async(ws_headers_for)(bob)
    await sync_to_async(celery_worker_process)("default")

    alice_ws, ok_a = await connect(alice_headers)
    bob_ws, ok_b = await connect(bob_headers)
    assert ok_a and ok_b
    assert (await alice_ws.receive_json_from())["type"] == "hello"
    assert (await bob_ws.receive_json_from())["type"] == "hello"

    await sync_to_async(notify_task.delay)(alice.pk, {"message": "Your bet won", "kind": "win"})
    message = await alice_ws.receive_json_from(timeout=20)
    assert message == {"type": "notification", "payload": {"message": "Your bet won", "kind": "win"}}
    assert await bob_ws.receive_nothing(timeout=1)
    await alice_ws.disconnect()
    await bob_ws.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_anonymous_socket_is_refused(ws_headers_for):
    _communicator, connected = await connect(ws_headers_for(None))
    assert not connected


@pytest.mark.django_db(transaction=True)
async def test_socket_without_origin_is_refused():
    from asgiref.sync import sync_to_async

    from tests.conftest import session_cookie_for

    user = await sync_to_async(UserFactory)()
    cookie = await sync_to_async(session_cookie_for)(user)
    _communicator, connected = await connect([(b"cookie", f"sessionid={cookie}".encode())])
    assert not connected
    await asyncio.sleep(0)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
async def test_idle_socket_outlives_the_channel_layer_block(ws_headers_for, monkeypatch):
    """channels_redis blocks 5 s per receive; a 5 s socket read timeout used to kill idle consumers."""
    from asgiref.sync import sync_to_async

    from betthat.core.channel_layer import RedisChannelLayer
    from betthat.core.realtime import publish, user_group

    empty_blocks = 0
    two_empty_blocks = asyncio.Event()
    block = RedisChannelLayer._brpop_with_clean

    async def counting_block(self, index, channel, timeout):
        nonlocal empty_blocks
        member = await block(self, index, channel, timeout)
        if member is None:
            empty_blocks += 1
            if empty_blocks == 2:
                two_empty_blocks.set()
        return member

    monkeypatch.setattr(RedisChannelLayer, "_brpop_with_clean", counting_block)
    user = await sync_to_async(UserFactory)()
    communicator, connected = await connect(await sync_to_async(ws_headers_for)(user))
    assert connected
    assert (await communicator.receive_json_from())["type"] == "hello"
    # Two full BZPOPMIN blocks with nothing to read, however long they take.
    await asyncio.wait_for(two_empty_blocks.wait(), timeout=30)
    await sync_to_async(publish)(
        user_group(user.pk), {"type": "notification", "payload": {"message": "still here"}}, on_commit=False
    )
    message = await communicator.receive_json_from(timeout=5)
    assert message == {"type": "notification", "payload": {"message": "still here"}}
    await communicator.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_a_cancelled_channel_receive_ends_even_when_python_loses_the_cancellation(monkeypatch):
    """Python 3.11's asyncio.wait_for loses a cancellation that lands in the step its awaitable
    finishes; redis-py sends every command through it. channels_redis's receive then looped
    on BZPOPMIN forever, and pytest-asyncio's loop teardown waited for it forever (the suite's
    hang). Here the first send of a receive is cancelled and the cancellation lost, every time."""
    import redis.asyncio.connection
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    layer.brpop_timeout = 1  # one empty block per second instead of five
    channel = await layer.new_channel()
    real_wait_for = asyncio.wait_for
    lost: list[asyncio.Task] = []

    async def wait_for_that_loses_a_cancel(awaitable, timeout):
        inner = asyncio.ensure_future(awaitable)
        task = asyncio.current_task()
        if not lost and task is receiver:
            lost.append(task)
            task.cancel()  # arrives while the send is in flight ...
        try:
            return await asyncio.shield(inner)
        except asyncio.CancelledError:
            return await inner  # ... and is lost, as in Python 3.11's wait_for

    monkeypatch.setattr(redis.asyncio.connection.asyncio, "wait_for", wait_for_that_loses_a_cancel)
    receiver = asyncio.ensure_future(layer.receive(channel))
    try:
        done, _ = await asyncio.wait([receiver], timeout=8)
    finally:
        monkeypatch.setattr(redis.asyncio.connection.asyncio, "wait_for", real_wait_for)
        if not receiver.done():  # the old layer: cancel again (delivered in BZPOPMIN's read)
            receiver.cancel()
            await asyncio.wait([receiver], timeout=5)
    assert lost == [receiver]
    assert receiver in done and receiver.cancelled()


@pytest.mark.django_db(transaction=True)
async def test_a_batch_reaches_each_users_socket_in_order_after_commit(ws_headers_for):
    """notify_many / publish_many: one hand-off to the process's sender, after commit;
    each user gets only their own messages, in the order given; nothing before the commit."""
    from asgiref.sync import sync_to_async
    from django.db import transaction

    from betthat.core import realtime

    alice, bob = await sync_to_async(lambda: (UserFactory(), UserFactory()))()
    alice_ws, ok_a = await connect(await sync_to_async(ws_headers_for)(alice))
    bob_ws, ok_b = await connect(await sync_to_async(ws_headers_for)(bob))
    assert ok_a and ok_b
    assert (await alice_ws.receive_json_from())["type"] == "hello"
    assert (await bob_ws.receive_json_from())["type"] == "hello"

    def settle_a_batch() -> bool:
        with transaction.atomic():
            realtime.notify_many({alice.pk: {"n": 1}, bob.pk: {"n": 1}})
            realtime.notify(alice.pk, {"n": 2})
            pending_before_commit = realtime.flush(timeout=5)  # nothing was handed over yet
        return pending_before_commit

    assert await sync_to_async(settle_a_batch)()
    received = [await alice_ws.receive_json_from(timeout=10) for _ in range(2)]
    assert [m["payload"] for m in received] == [{"n": 1}, {"n": 2}]
    assert (await bob_ws.receive_json_from(timeout=10))["payload"] == {"n": 1}
    assert await bob_ws.receive_nothing(timeout=0.5)
    await alice_ws.disconnect()
    await bob_ws.disconnect()


def test_a_batch_is_one_on_commit_hand_off_and_nothing_when_rolled_back(
    django_capture_on_commit_callbacks, db
):
    from django.db import transaction

    from betthat.core import realtime

    with (
        django_capture_on_commit_callbacks() as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        realtime.publish_many([("user.1", {"type": "notification", "payload": {}}), ("h", {})])
        raise RuntimeError("rolled back")
    assert callbacks == []
    with django_capture_on_commit_callbacks() as callbacks:
        realtime.notify_many({1: {"n": 1}, 2: {"n": 2}, 3: {"n": 3}})
        realtime.publish_many([])  # an empty batch registers nothing
    assert len(callbacks) == 1


@pytest.mark.django_db(transaction=True)
async def test_groups_with_members_names_only_the_groups_a_send_would_reach():
    """The sender skips the groups nobody is in (an odds tick names hundreds of events'
    groups): a group counts when it has a member that has not expired."""
    import time

    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add("watched.one", channel)
    await layer.group_add("watched.two", channel)
    await layer.group_add("expired.one", channel)
    connection = layer.connection(layer.consistent_hash("expired.one"))
    # a member last refreshed longer ago than group_expiry: group_send would discard it
    await connection.zadd(
        layer._group_key("expired.one"), {channel: int(time.time()) - layer.group_expiry - 5}
    )
    try:
        names = ["watched.one", "nobody.here", "expired.one", "watched.two"]
        assert await layer.groups_with_members(names) == {"watched.one", "watched.two"}
        assert await layer.groups_with_members([]) == set()
    finally:
        for group in ("watched.one", "watched.two", "expired.one"):
            await layer.group_discard(group, channel)
