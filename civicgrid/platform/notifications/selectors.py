"""A person's inbox."""

from __future__ import annotations

from django.db import connection, models
from django.db.models import Count, QuerySet

from .models import Notification

# At most this many missed notifications come back at once; a page that slept longer
# shows the newest and the counter says how many are unread.
SINCE_LIMIT = 50


def inbox(user) -> QuerySet[Notification]:
    """The user's own notifications in this tenant, unread first, newest first."""
    return Notification.objects.filter(recipient=user).order_by(
        models.Case(models.When(read_at__isnull=True, then=0), default=1), "-created_at", "-id")


def notifications_for(user, *, since: int | None = None, unread: bool = False) -> QuerySet[Notification]:
    """The user's inbox as the API lists it: unread first, newest first; or, after the id
    ``since``, oldest first (what a client missed); ``unread`` only the unread ones."""
    rows = inbox(user) if since is None else Notification.objects.filter(recipient=user, pk__gt=since).order_by("pk")
    return rows.filter(read_at__isnull=True) if unread else rows


def unread_count(user) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def since(user, after_id: int, limit: int = SINCE_LIMIT) -> list[Notification]:
    """The user's notifications newer than ``after_id``, oldest first (the newest ``limit``)."""
    newest = list(notifications_for(user, since=after_id).select_related("case").order_by("-pk")[:limit])
    return newest[::-1]


def unread_counts(user_ids: set[int]) -> dict[int, int]:
    """user id → unread notifications, for these users (absent: none)."""
    if not user_ids:
        return {}
    return dict(Notification.objects.filter(recipient_id__in=user_ids, read_at__isnull=True)
                .values("recipient_id").annotate(unread=Count("pk")).values_list("recipient_id", "unread"))


def inbox_state(user) -> tuple[int, int]:
    """(unread count, newest notification id or 0): what a page starts its counter and
    its ``since`` cursor from, in one statement (each half an index scan)."""
    table = connection.ops.quote_name(Notification._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"""SELECT (SELECT count(*) FROM {table} WHERE recipient_id = %(user)s AND read_at IS NULL),
                                  (SELECT max(id) FROM {table} WHERE recipient_id = %(user)s)""", {"user": user.pk})
        unread, newest = cursor.fetchone()
    return unread, newest or 0
