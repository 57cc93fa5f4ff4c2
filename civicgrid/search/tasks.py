"""Indexing work: drain one schema's queue on request, and every minute for
each tenant (what waited while the backend or the worker was down)."""

from __future__ import annotations

import logging

from civicgrid.config.celery import app, send_to_each

from .query import SearchUnavailable

logger = logging.getLogger(__name__)


# ignore_result: sent after each relay; nobody reads it (see notifications.tasks.relay_outbox).
@app.task(name="civicgrid.search.tasks.index_queued", acks_late=True, ignore_result=True)
def index_queued(prepare: bool = False) -> int:
    """Index this schema's queue; ``prepare`` (the beat's call) first makes what the backend
    keeps ready ahead (PostgreSQL: this month's and next month's partitions)."""
    from django.db import connection

    from . import health
    from .backends import backend
    from .indexing import drain

    try:
        if prepare:
            backend().prepare(connection.schema_name)
        indexed = drain()
    except SearchUnavailable as exc:
        health.record_failure(str(exc))
        logger.warning("search: the backend is unavailable; cases wait in the queue (%s)", exc)
        return 0
    health.record_success()
    return indexed


@app.task(name="civicgrid.search.tasks.index_all_queued")
def index_all_queued() -> int:
    """Beat job: one drain per ready tenant, each sent from its own schema."""
    from civicgrid.tenants.selectors import ready_tenant_schemas

    return send_to_each(ready_tenant_schemas(), index_queued, kwargs={"prepare": True})
