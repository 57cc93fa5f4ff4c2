"""Changes to a person's inbox."""

from __future__ import annotations

from django.http import Http404
from django.utils import timezone

from .models import Notification
from .selectors import inbox


def mark_read(*, user, notification_id) -> Notification:
    """Mark one of the user's own notifications read; again is harmless; anyone else's is not found."""
    try:
        notification = inbox(user).get(pk=notification_id)
    except (Notification.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification
