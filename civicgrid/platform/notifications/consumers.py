"""The console's live socket at ``/ws/notifications/``.

A signed-in member of this tenant joins their own group and the department,
area or command-centre group whose case news they follow (``groups.groups_for``).
On connect the server says hello with the unread count and the newest
notification's id, and, if the page passes ``?since=<id>``, sends what it
missed from the store: the socket is a nudge, the stored notifications are the
truth, and a page that reconnects after sleep or a network gap catches up here.

The page pings every minute; at most once an hour a ping re-checks the
membership and re-joins the groups (the channel layer forgets a group membership
after ``group_expiry``, two hours, and consoles stay open for days). However the
consumer ends, even by Redis failing under it, it leaves its groups through the
layer (``layer.NotificationChannelLayer.leave``), which finishes the leave later if
Redis is away.
"""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qs

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from civicgrid.platform.accounts.second_factor import needs_second_factor, passed_in_session
from civicgrid.platform.accounts.selectors import staff_profile_for
from civicgrid.tenants.asgi import in_tenant_schema

from . import selectors
from .groups import groups_for
from .metrics import OPEN_SOCKETS
from .realtime import as_message

# Close codes in the 4000 range are ours: 4401 not signed in, 4404 not found here.
CLOSE_UNAUTHENTICATED = 4401
CLOSE_NOT_FOUND = 4404
REJOIN_EVERY = 3600.0


class NotificationConsumer(AsyncJsonWebsocketConsumer):
    """A signed-in staff member's live nudges for this tenant."""

    joined: list[str] = []
    counted = False  # in OPEN_SOCKETS, from its accept to its end

    async def __call__(self, scope, receive, send):
        try:
            await super().__call__(scope, receive, send)
        finally:
            if self.counted:
                OPEN_SOCKETS.dec()
            # Not in ``disconnect``: a consumer whose channel receive fails (Redis gone) ends
            # without it, and its memberships would stay behind.
            if hasattr(self, "channel_name"):
                await self.channel_layer.leave(self.channel_name, self.joined)

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        groups = await self.member_groups()
        if groups is None:
            await self.close(code=CLOSE_NOT_FOUND)
            return
        await self.join(groups)
        await self.accept()
        OPEN_SOCKETS.inc()
        self.counted = True
        # Read after joining: a notification stored in between comes both ways, never neither
        # (the page drops what it has already seen by id).
        unread, newest, missed = await self.inbox(since_cursor(self.scope.get("query_string", b"")))
        await self.send_json({"type": "hello", "tenant": self.scope["tenant"].schema_name, "user": user.username,
                              "unread": unread, "newest": newest})
        for notification in missed:
            await self.send_json({"type": "notification", "notification": notification, "unread": unread,
                                  "missed": True})

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        """Only pings are expected; anything else (binary, not JSON, unknown) is ignored."""
        try:
            message = json.loads(text_data) if text_data else None
        except ValueError:
            return
        if isinstance(message, dict) and message.get("type") == "ping":
            if time.monotonic() - self.joined_at > REJOIN_EVERY:
                groups = await self.member_groups()
                if groups is None:  # no longer a member here (deactivated, moved)
                    await self.close(code=CLOSE_NOT_FOUND)
                    return
                await self.join(groups)
            await self.send_json({"type": "pong"})

    async def join(self, groups: list[str]) -> None:
        for group in set(self.joined) - set(groups):
            await self.channel_layer.group_discard(group, self.channel_name)
        for group in groups:
            await self.channel_layer.group_add(group, self.channel_name)
        self.joined, self.joined_at = groups, time.monotonic()

    # --- nudges from the relay (``realtime``) ---------------------------------------------

    async def nudge_notification(self, event):
        await self.send_json({"type": "notification", "notification": event["notification"],
                              "unread": event["unread"]})

    async def nudge_read(self, event):
        await self.send_json({"type": "read", "ids": event["ids"], "unread": event["unread"]})

    async def nudge_case(self, event):
        await self.send_json({"type": "case", "case": event["case"]})

    # --- database, each call in the tenant's schema -----------------------------------------

    @in_tenant_schema
    def member_groups(self) -> list[str] | None:
        """None for an outsider, and for a member whose session has not passed its second factor."""
        user = self.scope["user"]
        staff = staff_profile_for(user)
        if staff is None or (needs_second_factor(user, staff)
                             and not passed_in_session(user, self.scope.get("session"))):
            return None
        return groups_for(self.scope["tenant"].schema_name, staff)

    @in_tenant_schema
    def inbox(self, since: int | None) -> tuple[int, int, list[dict]]:
        user = self.scope["user"]
        unread, newest = selectors.inbox_state(user)
        missed = [as_message(n) for n in selectors.since(user, since)] if since is not None else []
        return unread, newest, missed


def since_cursor(query_string: bytes) -> int | None:
    values = parse_qs(query_string.decode("latin-1")).get("since")
    try:
        return max(int(values[0]), 0) if values else None
    except ValueError:
        return None

