"""What notifications tell the operator's Prometheus (``/metrics``, ``platform/monitoring``).

- ``OPEN_SOCKETS``: the console sockets each ASGI process holds, kept by the consumer as it
  accepts and ends a socket. A ``livesum`` gauge: where processes share a
  ``PROMETHEUS_MULTIPROC_DIR`` only the live ones are summed; daphne is one process per
  container, so each ws instance is scraped and Prometheus sums them.
- ``OutboxBacklog``: each ready tenant's outbox when scraped, one statement per schema: how
  long the first waiting event has waited, how many wait, how many failed deliveries are being
  retried and how many are dead letters (the same ``dead_letters()`` the tenant's health and
  ``civicgrid outbox list-failed`` count). Counts stop at ``COUNT_CAP``: a backlog that large
  is an alarm either way, and counting further would make each scrape slower the worse it gets.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import DatabaseError, connection
from django.utils import timezone
from django_tenants.utils import schema_context
from prometheus_client import Gauge
from prometheus_client.core import GaugeMetricFamily

from civicgrid.tenants.selectors import ready_tenant_schemas

from .dead_letters import dead_letters
from .models import OutboxDelivery, OutboxEvent

logger = logging.getLogger(__name__)

OPEN_SOCKETS = Gauge("civicgrid_websockets_open", "Console notification sockets open (summed over live "
                     "processes sharing a metrics folder).", multiprocess_mode="livesum")

COUNT_CAP = 100_000


@dataclass(frozen=True)
class Backlog:
    first_waiting_since: datetime | None
    waiting_events: int
    retrying_deliveries: int
    dead_letters: int


def backlog(cap: int = COUNT_CAP) -> Backlog:
    """The current schema's outbox, in one statement of four index scans (each on a partial index)."""
    waiting = OutboxEvent.objects.filter(delivered_at__isnull=True)
    retrying = OutboxDelivery.objects.filter(delivered_at__isnull=True, dead_at__isnull=True)
    first = waiting.order_by("id").values("created_at")[:1]
    counted = [rows.order_by().values("pk")[:cap] for rows in (waiting, retrying, dead_letters())]
    parts, params = [], []
    for query, wrap in [(first, "({})"), *[(rows, "(SELECT count(*) FROM ({}) AS counted)") for rows in counted]]:
        sql, query_params = query.query.sql_with_params()
        parts.append(wrap.replace("{}", sql))
        params.extend(query_params)
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        return Backlog(*cursor.fetchone())


class OutboxBacklog:
    part = "outbox"

    def read(self):
        age = GaugeMetricFamily("civicgrid_outbox_oldest_waiting_seconds", "How long the first undelivered "
                                "outbox event has waited (0: none waits).", labels=["tenant"])
        waiting = GaugeMetricFamily("civicgrid_outbox_waiting_events", "Outbox events not yet handed to "
                                    f"their subscribers (counted up to {COUNT_CAP}).", labels=["tenant"])
        retrying = GaugeMetricFamily("civicgrid_outbox_retrying_deliveries", "Deliveries that failed and wait "
                                     "for their next try.", labels=["tenant"])
        dead = GaugeMetricFamily("civicgrid_outbox_dead_letters", "Deliveries the relay gave up on "
                                 "(`civicgrid outbox list-failed`).", labels=["tenant"])
        failed = 0
        for schema in ready_tenant_schemas():
            try:
                with schema_context(schema):
                    found = backlog()
            except DatabaseError:
                logger.warning("metrics: could not read the outbox of %s", schema, exc_info=True)
                failed += 1
                continue
            since = found.first_waiting_since
            age.add_metric([schema], (timezone.now() - since).total_seconds() if since else 0)
            waiting.add_metric([schema], found.waiting_events)
            retrying.add_metric([schema], found.retrying_deliveries)
            dead.add_metric([schema], found.dead_letters)
        return [age, waiting, retrying, dead], failed
