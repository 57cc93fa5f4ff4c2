"""The outbox and the notification store.

An ``OutboxEvent`` is written in the same transaction as the change it
announces, so a committed change always has its event and a rolled-back one
never does. A relay (``outbox.relay``) hands events to every subscriber after commit and marks
them; when Redis or the worker is down the rows wait and go out later. A subscriber
that fails gets an ``OutboxDelivery`` of its own, retried with backoff by later relays
until it succeeds or becomes a dead letter (``civicgrid outbox``).

A ``Notification`` is what a person sees in their inbox; live delivery over
websockets only nudges the page to look. One a person has not read within
``CIVICGRID_NOTIFY_UNREAD_AFTER`` goes to the notification channels (SMS,
WeChat plugins) once; ``channelled_at`` records that it went.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class OutboxEvent(models.Model):
    topic = models.CharField(max_length=60)  # e.g. "case.dispatched"
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    # Handed to every subscriber once; a subscriber that failed goes on as an OutboxDelivery.
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["id"], condition=models.Q(delivered_at__isnull=True),
                                name="outbox_waiting")]

    def __str__(self):
        return f"{self.topic} {self.pk}"


class OutboxDelivery(models.Model):
    """One subscriber's delivery of one event, written the first time it fails (a healthy
    delivery costs no row). The relay retries it with backoff until it succeeds
    (``delivered_at``) or gives up (``dead_at``: a dead letter, listed and retried by
    ``civicgrid outbox``). The event's other subscribers are not run again."""

    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="deliveries")
    subscriber = models.CharField(max_length=200)  # module.function of the subscriber
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    first_failed_at = models.DateTimeField()  # the give-up time counts from here
    next_attempt_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)
    dead_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["event", "subscriber"], name="outbox_delivery_once")]
        indexes = [
            models.Index(fields=["next_attempt_at"], name="outbox_delivery_due",
                         condition=models.Q(delivered_at__isnull=True, dead_at__isnull=True)),
            models.Index(fields=["id"], name="outbox_delivery_dead", condition=models.Q(dead_at__isnull=False,
                                                                                        delivered_at__isnull=True)),
        ]

    def __str__(self):
        return f"{self.subscriber} ← {self.event_id}"

    @property
    def is_dead(self) -> bool:
        return self.dead_at is not None and self.delivered_at is None


class Notification(models.Model):
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    topic = models.CharField(max_length=60)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=300, blank=True)
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    channelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["recipient", "read_at"], name="notification_inbox"),
            # "What did I miss since notification N": a page reconnecting after sleep.
            models.Index(fields=["recipient", "id"], name="notification_since"),
            # The channel job's work list: unread and not yet handed to a channel.
            models.Index(fields=["created_at"], name="notification_unchannelled",
                         condition=models.Q(read_at__isnull=True, channelled_at__isnull=True)),
        ]

    def __str__(self):
        return self.title
