"""Notifications nobody read in time go to the notification channels (SMS, WeChat).

A person at a console sees a notification the moment it is stored (the socket's
pop-up); one left unread for ``CIVICGRID_NOTIFY_UNREAD_AFTER`` seconds is handed to
each channel the tenant's active plugins offer, once. Each notification is claimed,
delivered and marked in a transaction of its own, under SKIP LOCKED, so two runs
at once never hand it over twice and a run that dies loses at most the one in hand
(which its channel's own idempotency key covers, as Acme SMS's does).

A notification older than ``CIVICGRID_NOTIFY_CHANNEL_MAX_AGE`` by the time a run
finds it (the worker was down for a day) is marked without being sent: a text
about yesterday's dispatch helps nobody.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from civicgrid.platform.notifications.models import Notification

from .manager import call_as_plugin, savepoint_per_plugin, tenant_hooks

BATCH = 500


def deliver_unread(*, now: datetime | None = None, batch: int = BATCH) -> int:
    """Hand this tenant's notifications unread for too long to its channels; returns how
    many were handed over (to at least one channel)."""
    now = now or timezone.now()
    due = now - timedelta(seconds=settings.CIVICGRID_NOTIFY_UNREAD_AFTER)
    oldest = now - timedelta(seconds=settings.CIVICGRID_NOTIFY_CHANNEL_MAX_AGE)
    channels = tenant_hooks().by_plugin("civicgrid_notification_channels")
    if not channels:
        return 0
    waiting = Notification.objects.filter(read_at__isnull=True, channelled_at__isnull=True, created_at__lte=due)
    ids = list(waiting.order_by("created_at", "pk").values_list("pk", flat=True)[:batch])
    handed = 0
    for pk in ids:
        with transaction.atomic(), savepoint_per_plugin():
            notification = (waiting.select_for_update(skip_locked=True, of=("self",)).select_related("recipient")
                            .filter(pk=pk).first())
            if notification is None:  # read meanwhile, or another run has it
                continue
            if notification.created_at >= oldest:
                for plugin_id, channel in channels:
                    # One channel failing (its provider down) must not stop the others.
                    call_as_plugin(plugin_id, channel.deliver, notification, notification.recipient)
                handed += 1
            notification.channelled_at = now
            notification.save(update_fields=["channelled_at"])
    return handed


def send_code_to_phone(*, phone: str, text: str, reference: str) -> bool:
    """Text a one-time code to a phone number that belongs to no user (a resident on a
    community site) through each active channel that can (``send_code``). True when one
    took it. A channel's failure is logged and skipped like any hook's."""
    sent = False
    for plugin_id, channel in tenant_hooks().by_plugin("civicgrid_notification_channels"):
        send = getattr(channel, "send_code", None)
        if send is not None and call_as_plugin(plugin_id, send, phone, text, reference):
            sent = True
    return sent
