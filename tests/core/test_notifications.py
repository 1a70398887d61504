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
async def test_idle_socket_outlives_the_channel_layer_block(ws_headers_for):
    """channels_redis blocks 5 s per receive; a 5 s socket read timeout used to kill idle consumers."""
    from asgiref.sync import sync_to_async

    from betthat.core.realtime import send_now, user_group

    user = await sync_to_async(UserFactory)()
    communicator, connected = await connect(await sync_to_async(ws_headers_for)(user))
    assert connected
    assert (await communicator.receive_json_from())["type"] == "hello"
    await asyncio.sleep(11)  # two full BZPOPMIN blocks with nothing to read
    await sync_to_async(send_now)(
        user_group(user.pk), {"type": "notify", "payload": {"message": "still here"}}
    )
    message = await communicator.receive_json_from(timeout=5)
    assert message == {"type": "notification", "payload": {"message": "still here"}}
    await communicator.disconnect()
