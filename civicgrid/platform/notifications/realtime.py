"""Live nudges: the outbox relay, after its transaction commits, tells open pages
what changed through the channel layer (Redis).

Three nudges, each to the narrowest groups (``groups``), never tenant-wide:

- a stored notification, to its recipient (a toast and the unread counter);
- notifications read, to their reader (every open tab of theirs syncs its counter);
- a case changed, to the command centre, the department holding it and the areas
  on its path (open lists offer to refresh).

A nudge that cannot be sent (Redis down) is logged and dropped: the stored
notification is the truth, and a page fetches what it missed when it reconnects.

The sends run on one event loop per process, in a thread of its own: channels-redis
keeps its connection pool per event loop, so a loop per call (``async_to_sync``
in a Celery worker) would connect to Redis again for every event.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Iterable

from channels.layers import get_channel_layer
from django.db import connection, transaction

from .groups import department_group, groups_for_case, user_group
from .models import Notification
from .outbox import subscriber
from .selectors import unread_counts

logger = logging.getLogger(__name__)
SEND_TIMEOUT = 3.0  # seconds a relay waits for Redis before giving the nudges up

Message = tuple[str, dict]  # (group, channel-layer message)


# --- what each event nudges ------------------------------------------------------------


@subscriber
def nudge_open_pages(event) -> None:
    """After the relay commits this event: its notifications to their recipients, a
    read to its reader, a case change to the lists that show the case."""
    payload = event.payload
    schema = payload.get("schema") or connection.schema_name
    messages: list[Message] = []
    if payload.get("notifications"):
        messages += notification_nudges(schema, payload["notifications"])
    if event.topic == "inbox.read":
        messages += read_nudges(schema, payload["user_id"], payload.get("ids") or [])
    elif event.topic.startswith("case.") and "case_id" in payload:
        messages += case_nudges(schema, event.topic.removeprefix("case."), payload)
    if messages:
        # Registered inside the relay's per-event savepoint: an event whose delivery
        # rolls back (and will be retried) nudges nobody now.
        transaction.on_commit(lambda: publish(messages))


def notification_nudges(schema: str, ids: Iterable[int]) -> list[Message]:
    rows = list(Notification.objects.filter(pk__in=list(ids)).select_related("case").only(
        "topic", "title", "url", "created_at", "recipient", "case__number", "case__title").order_by("pk"))
    unread = unread_counts({row.recipient_id for row in rows})
    return [(user_group(schema, row.recipient_id), {"type": "nudge.notification", "notification": as_message(row),
                                                   "unread": unread.get(row.recipient_id, 0)})
            for row in rows]


def as_message(notification: Notification) -> dict:
    """A notification as the socket sends it (live, and what a reconnecting page missed)."""
    return {"id": notification.pk, "topic": notification.topic, "title": notification.title,
            "url": notification.url, "case": notification.case_id,
            "number": notification.case.number if notification.case_id else "",
            "case_title": notification.case.title if notification.case_id else "",
            "created_at": notification.created_at.isoformat()}


def read_nudges(schema: str, user_id: int, ids: list[int]) -> list[Message]:
    unread = unread_counts({user_id}).get(user_id, 0)
    return [(user_group(schema, user_id), {"type": "nudge.read", "ids": ids, "unread": unread})]


def case_nudges(schema: str, action: str, payload: dict) -> list[Message]:
    """Every case event carries where the case is (actions and the sweep write it), so
    the lists to nudge are known without reading the case."""
    if "org_path" not in payload:  # an event written before events carried it
        return []
    department_id, org_path = payload.get("holding_department"), payload["org_path"]
    message = {"type": "nudge.case", "case": {"id": payload["case_id"], "number": payload.get("number", ""),
                                              "status": payload.get("status", ""), "action": action}}
    groups = groups_for_case(schema, department_id=department_id, org_path=org_path)
    if department_id and payload.get("department_notified"):
        # Its handlers were each notified of this very step (a toast, which the page also
        # reads as a change of the case): a second message to each of them is only load.
        groups.remove(department_group(schema, department_id))
    return [(group, message) for group in groups]


# --- sending -------------------------------------------------------------------------------

_loop: asyncio.AbstractEventLoop | None = None
_loop_pid = 0
_loop_lock = threading.Lock()


def _sender_loop() -> asyncio.AbstractEventLoop:
    """This process's sending loop, started on first use (and again in a forked child,
    which inherits the variable but not the thread)."""
    global _loop, _loop_pid
    with _loop_lock:
        if _loop is None or _loop_pid != os.getpid():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="civicgrid-nudges", daemon=True).start()
            _loop, _loop_pid = loop, os.getpid()
        return _loop


def publish(messages: list[Message]) -> bool:
    """Send the nudges; False (and a warning) if the channel layer could not take them."""
    layer = get_channel_layer()
    if layer is None or not messages:
        return False

    async def send_all():
        await asyncio.gather(*(layer.group_send(group, message) for group, message in messages))

    future = asyncio.run_coroutine_threadsafe(send_all(), _sender_loop())
    try:
        future.result(timeout=SEND_TIMEOUT)
    except Exception as exc:  # Redis down or slow: pages catch up from the store on reconnect
        future.cancel()
        logger.warning("realtime: %d nudges not sent (%s: %s)", len(messages), type(exc).__name__, exc)
        return False
    return True
