"""Every case event, once committed and relayed, marks the case's document stale;
the indexer is asked for after the relay's transaction commits. Reports, every
transition, comments and handling results all arrive as ``case.*`` events."""

from __future__ import annotations

from django.db import connection, transaction

from civicgrid.platform.notifications.outbox import subscriber

from .indexing import queue_cases, request_drain


@subscriber
def case_events_to_index(event) -> None:
    if not event.topic.startswith("case.") or "case_id" not in event.payload:
        return
    queue_cases([event.payload["case_id"]])
    schema = connection.schema_name
    transaction.on_commit(lambda: request_drain(schema))
