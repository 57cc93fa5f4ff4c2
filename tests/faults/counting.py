"""What a test's reports made, counted in the database, and waiting for a worker to go idle."""

from __future__ import annotations

import time
from dataclasses import dataclass

import redis
from django.db import connection

from civicgrid.config.celery import app


@dataclass
class SideEffects:
    cases: list[tuple[str, int]]  # (number, pk)
    events_waiting: int
    events_delivered: int
    reports_heard: dict[str, int]  # case number → how often the sample plugin heard it reported
    indexed: set[int]  # cases with a search document
    index_queue: int  # of these cases, waiting to be indexed
    notifications: list[int]


def side_effects(prefix: str) -> SideEffects:
    """In the current tenant: the cases titled ``prefix…`` and what became of them."""
    from sample_plugin.models import HeardEvent

    from civicgrid.platform.cases.models import Case
    from civicgrid.platform.notifications.models import Notification, OutboxEvent
    from civicgrid.search.models import IndexQueue

    cases = list(Case.objects.filter(title__startswith=prefix).order_by("pk").values_list("number", "pk"))
    ids = [pk for _number, pk in cases]
    events = OutboxEvent.objects.filter(payload__case_id__in=ids)
    heard: dict[str, int] = {}
    for number in HeardEvent.objects.filter(case_number__in=[n for n, _ in cases], hook="reported").values_list(
            "case_number", flat=True):
        heard[number] = heard.get(number, 0) + 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT case_id FROM search_casedocument WHERE case_id = ANY(%s)", [ids])
        indexed = {row[0] for row in cursor.fetchall()}
    return SideEffects(
        cases=cases, events_waiting=events.filter(delivered_at__isnull=True).count(),
        events_delivered=events.filter(delivered_at__isnull=False).count(), reports_heard=heard, indexed=indexed,
        index_queue=IndexQueue.objects.filter(case_id__in=ids).count(),
        notifications=sorted(Notification.objects.filter(case_id__in=ids).values_list("pk", flat=True)))


def worker_idle(stack, *, quiet: float = 1.5, timeout: float = 60) -> None:
    """Wait until the private broker has had nothing queued or in hand for ``quiet`` seconds."""
    client = redis.Redis.from_url(stack.redis_url)
    queue = app.conf.task_default_queue
    deadline = time.monotonic() + timeout
    quiet_since = None
    try:
        while time.monotonic() < deadline:
            busy = client.llen(queue) or client.hlen("unacked")
            if busy:
                quiet_since = None
            elif quiet_since is None:
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since >= quiet:
                return
            time.sleep(0.2)
    finally:
        client.close()
    raise AssertionError("the worker never went idle\n" + stack.logs())
