"""betthat.core.hub: one Redis subscription per process and topic, each frame to each socket once."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from betthat.asgi import application
from betthat.core import realtime
from betthat.core import redis as bt_redis
from betthat.core.hub import HubMember, get_hub, hub_channel
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _subscribers(topic: str) -> int:
    ((_, count),) = bt_redis.client().pubsub_numsub(hub_channel(topic))
    return int(count)


async def test_a_users_tabs_share_one_subscription_and_get_each_frame_once(ws_headers_for):
    user = await sync_to_async(UserFactory)()
    headers = await sync_to_async(ws_headers_for)(user)
    topic = realtime.user_group(user.pk)
    tabs = []
    for _ in range(3):
        tab = WebsocketCommunicator(application, "/ws/notifications/", headers=headers)
        connected, _ = await tab.connect(timeout=5)
        assert connected
        assert (await tab.receive_json_from(timeout=5))["type"] == "hello"
        tabs.append(tab)
    assert _subscribers(topic) == 1  # three sockets, one subscription in this process
    assert len(get_hub().sockets(topic)) == 3

    def send() -> None:
        realtime.notify_many({user.pk: {"n": 1}})
        realtime.notify(user.pk, {"n": 2})
        assert realtime.flush(timeout=5)

    await sync_to_async(send)()
    for tab in tabs:
        received = [await tab.receive_json_from(timeout=5) for _ in range(2)]
        assert received == [{"type": "notification", "payload": {"n": n}} for n in (1, 2)]
        assert await tab.receive_nothing(timeout=0.3)
    for tab in tabs[:2]:
        await tab.disconnect()
    assert _subscribers(topic) == 1  # one tab left
    await tabs[2].disconnect()
    assert _subscribers(topic) == 0 and get_hub().sockets(topic) == set()


async def test_numbered_frames_take_the_topics_next_number_in_one_step(ws_headers_for):
    user = await sync_to_async(UserFactory)()
    tab = WebsocketCommunicator(
        application, "/ws/notifications/", headers=await sync_to_async(ws_headers_for)(user)
    )
    assert (await tab.connect(timeout=5))[0]
    await tab.receive_json_from(timeout=5)
    topic = realtime.user_group(user.pk)

    def send() -> None:
        realtime.publish_many(
            [(topic, {"type": "notification", "payload": {"n": n}}) for n in range(3)],
            numbered=True,
            on_commit=False,
        )
        assert realtime.flush(timeout=5)

    await sync_to_async(send)()
    frames = [await tab.receive_json_from(timeout=5) for _ in range(3)]
    assert [(f["seq"], f["payload"]["n"]) for f in frames] == [(1, 0), (2, 1), (3, 2)]
    assert await sync_to_async(realtime.sequence)(topic) == 3
    await tab.disconnect()


class _Socket(HubMember):
    def __init__(self) -> None:
        self.frames: list[str] = []
        self.delivered = asyncio.Event()

    async def hub_deliver(self, topic: str, frame: str) -> None:
        self.frames.append(frame)
        self.delivered.set()


async def test_a_socket_joining_a_room_as_the_last_one_leaves_stays_subscribed():
    """The last socket of a topic leaving (UNSUBSCRIBE) while another joins it (SUBSCRIBE):
    the join must not end up unsubscribed because the leave's command went out after it."""
    hub = get_hub()
    elsewhere, leaving, joining = _Socket(), _Socket(), _Socket()
    await hub.join("test.other", elsewhere)  # the process keeps listening throughout
    await hub.join("test.room", leaving)
    unsubscribe = hub.pubsub.unsubscribe

    async def slow_unsubscribe(*channels):
        await asyncio.sleep(0.2)  # the command leaves late (a busy loop, a slow connection)
        return await unsubscribe(*channels)

    hub.pubsub.unsubscribe = slow_unsubscribe
    await asyncio.gather(hub.leave("test.room", leaving), hub.join("test.room", joining))
    assert _subscribers("test.room") == 1
    await sync_to_async(realtime.publish)("test.room", {"type": "x"}, on_commit=False)
    await sync_to_async(realtime.flush)()
    await asyncio.wait_for(joining.delivered.wait(), timeout=5)
    assert joining.frames == ['{"type":"x"}'] and leaving.frames == []
    await hub.leave("test.room", joining)
    await hub.leave("test.other", elsewhere)


class _Recorder(HubMember):
    """A member that records its frames; `gate`, when set, makes its sends wait (a socket
    whose buffer is full); `broken` makes them fail (a socket gone meanwhile)."""

    def __init__(self, gate: asyncio.Event | None = None, broken: bool = False) -> None:
        self.frames: list[str] = []
        self.gate, self.broken = gate, broken

    async def hub_deliver(self, topic: str, frame: str) -> None:
        if self.broken:
            raise ConnectionResetError("gone")
        if self.gate is not None:
            await self.gate.wait()
        self.frames.append(frame)


def _hub_with(topic: str, members: list[HubMember]):
    from betthat.core.hub import Hub

    hub = Hub(asyncio.get_running_loop())
    channel = hub_channel(topic).encode()
    hub.topics[channel] = topic
    hub.members[topic] = set(members)
    return hub, [{"type": "message", "channel": channel, "data": f"frame {i}".encode()} for i in range(3)]


@pytest.mark.django_db(transaction=False)
async def test_writable_sockets_get_their_frames_in_order_without_a_task_each():
    loop = asyncio.get_running_loop()
    made = []
    loop.set_task_factory(lambda loop, coro, **kw: made.append(coro) or asyncio.Task(coro, loop=loop, **kw))
    try:
        sockets = [_Recorder() for _ in range(100)]
        hub, batch = _hub_with("t.writable", sockets)
        await hub._dispatch(batch)
    finally:
        loop.set_task_factory(None)
    assert all(s.frames == ["frame 0", "frame 1", "frame 2"] for s in sockets)
    assert hub.delivered == 300
    assert made == []  # before: a task for each of the 100 sockets


async def _caught_up(hub) -> None:
    """Until every delivery that had to wait (and every close) has ended."""
    await asyncio.wait_for(asyncio.gather(*hub.catching_up), timeout=1)


@pytest.mark.django_db(transaction=False)
async def test_a_waiting_socket_holds_up_neither_the_others_nor_the_next_batch(caplog):
    gate = asyncio.Event()
    slow, broken, others = _Recorder(gate), _Recorder(broken=True), [_Recorder() for _ in range(5)]
    hub, batch = _hub_with("t.slow", [slow, broken, *others])
    await asyncio.wait_for(hub._dispatch(batch[:2]), timeout=1)  # before: waited for the slow one
    await asyncio.wait_for(hub._dispatch(batch[2:]), timeout=1)
    assert all(s.frames == ["frame 0", "frame 1", "frame 2"] for s in others)
    assert slow.frames == [] and list(hub.waiting[slow]) == [("t.slow", "frame 2")]
    gate.set()
    await _caught_up(hub)
    assert slow.frames == ["frame 0", "frame 1", "frame 2"]  # its own order, after the others
    assert hub.waiting == {} and not hub.catching_up
    assert broken.frames == [] and "a delivery failed: ConnectionResetError('gone')" in caplog.text


class _Closable(_Recorder):
    def __init__(self, gate: asyncio.Event) -> None:
        super().__init__(gate)
        self.closed_with: list[int] = []
        self.closed = asyncio.Event()

    async def close(self, code: int) -> None:
        self.closed_with.append(code)
        self.closed.set()


@pytest.mark.django_db(transaction=False)
async def test_a_socket_too_far_behind_is_closed_and_gets_nothing_more(caplog):
    gate = asyncio.Event()
    stuck, reader = _Closable(gate), _Recorder()
    hub, batch = _hub_with("t.stuck", [stuck, reader])
    hub.slow_socket_frames = 4
    for _ in range(3):  # 9 frames: the first batch in flight, then 6 queued behind it (> 4)
        await asyncio.wait_for(hub._dispatch(batch), timeout=1)
    await asyncio.wait_for(stuck.closed.wait(), timeout=1)
    assert stuck.closed_with == [1013] and "fell 4 frames behind; closing it" in caplog.text
    assert len(reader.frames) == 9
    await asyncio.wait_for(hub._dispatch(batch), timeout=1)
    gate.set()
    await _caught_up(hub)
    assert stuck.frames == ["frame 0", "frame 1", "frame 2"]  # the delivery in flight, no more
    assert hub.waiting == {} and len(reader.frames) == 12
