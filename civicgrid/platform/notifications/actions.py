"""Changes to a person's inbox. Each read goes out through the outbox, so every
open tab of the reader syncs its unread counter."""

from __future__ import annotations

from django.db import connection, transaction
from django.http import Http404
from django.utils import timezone

from .models import Notification
from .outbox import emit
from .selectors import inbox


def mark_read(*, user, notification_id) -> Notification:
    """Mark one of the user's own notifications read; again is harmless; anyone else's is not found."""
    try:
        notification = inbox(user).get(pk=notification_id)
    except (Notification.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
    if notification.read_at is None:
        with transaction.atomic():
            notification.read_at = timezone.now()
            notification.save(update_fields=["read_at"])
            _announce(user, [notification.pk])
    return notification


def mark_all_read(*, user) -> int:
    """Mark every unread notification of the user read; returns how many."""
    return _mark(user, Notification.objects.filter(recipient=user, read_at__isnull=True))


def mark_case_read(*, user, case) -> int:
    """Opening a case reads the user's notifications about it."""
    return _mark(user, Notification.objects.filter(recipient=user, case=case, read_at__isnull=True))


def _mark(user, unread) -> int:
    if not unread.exists():  # the common case (a page opened again): no transaction, no lock
        return 0
    with transaction.atomic():
        ids = list(unread.select_for_update(skip_locked=True).values_list("pk", flat=True))
        if ids:
            Notification.objects.filter(pk__in=ids).update(read_at=timezone.now())
            _announce(user, ids)
    return len(ids)


# Enough for any open inbox page; "mark all read" on a full inbox sends the counter only.
ANNOUNCED_IDS = 500


def _announce(user, ids: list[int]) -> None:
    emit("inbox.read", user_id=user.pk, ids=ids[:ANNOUNCED_IDS], schema=connection.schema_name)
