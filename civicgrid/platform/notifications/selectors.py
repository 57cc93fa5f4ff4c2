"""A person's inbox."""

from __future__ import annotations

from django.db import models
from django.db.models import QuerySet

from .models import Notification


def inbox(user) -> QuerySet[Notification]:
    """The user's own notifications in this tenant, unread first, newest first."""
    return Notification.objects.filter(recipient=user).order_by(
        models.Case(models.When(read_at__isnull=True, then=0), default=1), "-created_at", "-id")
