"""The channel layer keeps nothing for a channel whose consumer has ended (against the
machine's Redis; the restart case is in tests/faults/test_sockets_across_redis_restart.py)."""

from __future__ import annotations

import asyncio
import uuid

from channels_redis.core import RedisChannelLayer
from django.conf import settings

from civicgrid.platform.notifications.layer import ClosedChannels, NotificationChannelLayer

MESSAGES = 50


def layer(kind=NotificationChannelLayer):
    return kind(hosts=[settings.REDIS_URL], prefix=f"cg-test-{uuid.uuid4().hex[:8]}")


async def nudges_with_a_dead_member(channel_layer) -> str:
    """Two sockets in a group, one of which ended without leaving it (Redis failed under it):
    the live one receives every nudge; return the dead one's channel."""
    dead, live = await channel_layer.new_channel(), await channel_layer.new_channel()
    await channel_layer.group_add("g", dead)
    await channel_layer.group_add("g", live)
    if isinstance(channel_layer, NotificationChannelLayer):
        channel_layer.closed.add(dead)  # what ``leave`` does first, before Redis is asked
    for n in range(MESSAGES):
        await channel_layer.group_send("g", {"type": "nudge", "n": n})
    received = [await asyncio.wait_for(channel_layer.receive(live), 5) for _ in range(MESSAGES)]
    assert [m["n"] for m in received] == list(range(MESSAGES))
    await channel_layer.flush()
    return dead


def test_channels_redis_alone_keeps_every_message_for_a_dead_channel():
    """Why the layer exists (channels_redis issue #384): this is the leak."""
    plain = layer(RedisChannelLayer)
    dead = asyncio.run(nudges_with_a_dead_member(plain))
    assert plain.receive_buffer[dead].qsize() == MESSAGES


def test_messages_for_a_closed_channel_are_dropped_on_arrival():
    ours = layer()
    dead = asyncio.run(nudges_with_a_dead_member(ours))
    assert dead not in ours.receive_buffer


def test_leaving_removes_the_memberships_and_marks_the_channel_closed():
    ours = layer()

    async def scenario():
        channel = await ours.new_channel()
        await ours.group_add("a", channel)
        await ours.group_add("b", channel)
        await ours.leave(channel, ["a", "b"])
        connection = ours.connection(0)
        counts = [await connection.zcard(ours._group_key(group)) for group in ("a", "b")]
        await ours.flush()
        return channel, counts

    channel, counts = asyncio.run(scenario())
    assert counts == [0, 0] and channel in ours.closed and not ours.unfinished_leaves


def test_closed_channels_are_forgotten_after_the_group_expiry(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr("civicgrid.platform.notifications.layer.time.monotonic", lambda: clock[0])
    closed = ClosedChannels(keep_for=60)
    closed.add("old")
    clock[0] += 61
    closed.add("new")
    assert "old" not in closed and "new" in closed and len(closed) == 1
