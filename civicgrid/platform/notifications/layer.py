"""The channel layer: channels-redis, made safe for sockets that end while Redis is away.

Two things in channels-redis 4.3 grow an ASGI process's memory for ever when a socket's
consumer ends without leaving its groups, as it does when Redis goes away under it (the
consumer dies on the failed receive, so ``disconnect`` never runs):

- its group memberships stay in Redis until ``group_expiry``, so every nudge to those groups is
  still sent to this process for a channel nobody reads;
- the process keeps each such message in ``receive_buffer[channel]``, a queue created on first
  use and removed only by that channel's own reader, which is gone (channels_redis issue #384,
  open upstream). ``bench/soak.py`` measured daphne growing 864 MB/h after one Redis restart.

So a consumer, whatever way it ends, calls ``leave``: the channel is marked closed (messages for it
are dropped on arrival, not buffered) and its groups are left; a leave Redis refused is kept and
done again at this process's next successful ``group_add``, which is the first thing a page
reconnecting after the outage does.
"""

from __future__ import annotations

import collections
import functools
import logging
import time

from channels_redis.core import BoundedQueue, RedisChannelLayer

log = logging.getLogger(__name__)


class ClosedChannels:
    """Names of this process's channels whose consumer has ended, kept while a message could
    still come for them: until ``group_expiry`` after closing, when Redis forgets any
    membership nobody renewed. Channel names are random and never reused."""

    def __init__(self, keep_for: float):
        self.keep_for = keep_for
        self._closed_at: collections.OrderedDict[str, float] = collections.OrderedDict()

    def add(self, channel: str) -> None:
        now = time.monotonic()
        self._closed_at[channel] = now
        while self._closed_at:
            oldest, closed_at = next(iter(self._closed_at.items()))
            if now - closed_at < self.keep_for:
                break
            del self._closed_at[oldest]

    def __contains__(self, channel: str) -> bool:
        return channel in self._closed_at

    def __len__(self) -> int:
        return len(self._closed_at)


class ReceiveBuffers(collections.defaultdict):
    """channels-redis's per-channel buffers, except that a message for a closed channel gets a
    queue that is thrown away instead of one kept for a reader that will never come."""

    def __init__(self, capacity: int, closed: ClosedChannels):
        super().__init__(functools.partial(BoundedQueue, capacity))
        self.closed = closed

    def __missing__(self, channel):
        if channel in self.closed:
            return self.default_factory()
        return super().__missing__(channel)


class NotificationChannelLayer(RedisChannelLayer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.closed = ClosedChannels(keep_for=self.group_expiry)
        self.receive_buffer = ReceiveBuffers(self.capacity, self.closed)
        self.unfinished_leaves: set[tuple[str, str]] = set()
        self._leaving = False  # one pass at a time: a thousand pages reconnect at once

    async def leave(self, channel: str, groups) -> None:
        """A consumer has ended: drop what still comes for its channel and leave its groups."""
        self.closed.add(channel)
        self.unfinished_leaves.update((group, channel) for group in groups)
        await self._finish_leaves()

    async def group_add(self, group: str, channel: str) -> None:
        await super().group_add(group, channel)
        if self.unfinished_leaves:  # Redis answers again: leave what could not be left then
            await self._finish_leaves()

    async def _finish_leaves(self) -> None:
        if self._leaving:
            return
        self._leaving = True
        try:
            for group, channel in list(self.unfinished_leaves):
                try:
                    await self.group_discard(group, channel)
                except Exception as error:  # Redis down or restarting: the next group_add tries again
                    log.warning("could not leave channel group %s (%s); kept to retry", group,
                                type(error).__name__)
                    return
                self.unfinished_leaves.discard((group, channel))
        finally:
            self._leaving = False
