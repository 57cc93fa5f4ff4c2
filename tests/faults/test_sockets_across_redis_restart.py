"""Redis restarted under open console sockets: the sockets' consumers die with it, and once
Redis is back (with what it held, as production's persistent Redis comes back) the channel
layer holds only the sockets that are open, not the dead ones' memberships.

Before ``notifications/layer.py`` the dead consumers never left their groups (``disconnect``
does not run when the channel receive fails), and every nudge to those groups was still sent
to daphne and buffered there for ever: ``bench/soak.py`` measured +864 MB/h.
"""

from __future__ import annotations

import pytest
import redis
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client

from tests.platform.notifications.sockets import Sockets

from .conftest import SHANGCHENG, eventually

pytestmark = [pytest.mark.faults, pytest.mark.slow]
SOCKETS = 3


def session_cookie(username: str) -> tuple[Client, str]:
    connection.set_schema_to_public()
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return client, f"sessionid={client.cookies['sessionid'].value}"


def memberships(redis_url: str) -> dict[str, int]:
    """How many channels each of the channel layer's groups holds, by group key."""
    client = redis.Redis.from_url(redis_url)
    prefix = settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"]
    return {key.decode(): client.zcard(key) for key in client.scan_iter(f"{prefix}:group:*")}


def test_sockets_cut_by_a_redis_restart_leave_their_groups_once_it_is_back(append_only_stack):
    stack = append_only_stack
    asgi = stack.asgi()
    client, cookie = session_cookie("shangcheng_gridworker")
    sockets = Sockets(asgi.port)
    try:
        for n in range(SOCKETS):
            sockets.connect(f"before{n}", SHANGCHENG, cookie)
        joined = memberships(stack.redis_url)
        assert len(joined) == 2 and set(joined.values()) == {SOCKETS}, joined  # own group and area group

        stack.redis.stop()
        eventually(lambda: all(s.close_code is not None for s in sockets.open.values()), timeout=30, stack=stack)
        stack.redis.start()
        # Back with what it held: the dead sockets are still members, nobody could remove them.
        assert memberships(stack.redis_url) == joined

        for n in range(SOCKETS):  # the pages reconnect
            sockets.connect(f"after{n}", SHANGCHENG, cookie)

        def only_the_open_sockets_are_members():
            return set(memberships(stack.redis_url).values()) == {SOCKETS}

        eventually(only_the_open_sockets_are_members, timeout=15, stack=stack)
        assert "could not leave channel group" in asgi.log()  # the leave was tried, refused, kept
    finally:
        sockets.close_all()
        client.logout()
