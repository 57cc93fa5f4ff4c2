"""The outbox hands each case event to the tenant's active plugins after commit,
through the lifecycle hooks (notification channels get what stays unread: see
``channels``). Plugins never run inside a case's transaction, so a slow or broken
plugin cannot lose or delay a report."""

from __future__ import annotations

from django.db import connection

from civicgrid.platform.notifications.outbox import subscriber

from .manager import savepoint_per_plugin, tenant_hooks
from .types import CaseEvent

CORE_KEYS = ("case_id", "number", "status", "version", "schema", "notifications", "holding_department",
             "department_notified", "org_path")


@subscriber
def case_events_to_plugins(event) -> None:
    if not event.topic.startswith("case."):
        return
    hooks = tenant_hooks()
    if not hooks.active:  # the common case: nothing switched on, nothing to build
        return
    payload = event.payload
    case_event = CaseEvent(
        schema=payload.get("schema") or connection.schema_name, case_id=payload["case_id"], number=payload.get("number", ""),
        action=event.topic.removeprefix("case."), status=payload.get("status", ""),
        version=payload.get("version", 0), data={k: v for k, v in payload.items() if k not in CORE_KEYS})
    with savepoint_per_plugin():  # the relay delivers each event in a transaction
        dispatch_case_event(hooks, case_event)


def dispatch_case_event(hooks, event: CaseEvent) -> None:
    if event.action == "report":
        hooks.civicgrid_case_reported(event=event)
    hooks.civicgrid_case_transitioned(event=event)
    if event.action == "close":
        hooks.civicgrid_case_closed(event=event)
