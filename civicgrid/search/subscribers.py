"""Every case event, once committed and relayed, marks the case's document stale;
the indexer is asked for after the relay's transaction commits. Reports, every
transition, comments and handling results all arrive as ``case.*`` events."""

from __future__ import annotations

from django.db import connection, transaction

from civicgrid.platform.notifications.outbox import batch_subscriber

from .indexing import queue_cases, request_drain


# Per batch: two relays in parallel each queue their batch's cases in one sorted insert,
# so they take the queue's key locks in the same order. One insert per event (in event
# order) deadlocked when two batches held events of the same cases.
@batch_subscriber
def case_events_to_index(events) -> None:
    case_ids = [event.payload["case_id"] for event in events
                if event.topic.startswith("case.") and "case_id" in event.payload]
    if not case_ids:
        return
    queue_cases(case_ids)
    schema = connection.schema_name
    transaction.on_commit(lambda: request_drain(schema))
