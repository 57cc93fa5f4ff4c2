"""Relaying the outbox: on request after each commit, and every minute for
whatever waited while the broker or the worker was down."""

from __future__ import annotations

from civicgrid.config.celery import app, send_to_each


# ignore_result: nobody reads a relay's result, and sending one must not wait for the result
# store (Redis) to subscribe: with Redis down that wait held every report ~20 s after its commit.
@app.task(name="civicgrid.platform.notifications.tasks.relay_outbox", acks_late=True, ignore_result=True)
def relay_outbox() -> int:
    from .outbox import relay, relay_starting

    relay_starting()
    return relay()


@app.task(name="civicgrid.platform.notifications.tasks.relay_all_outboxes")
def relay_all_outboxes() -> int:
    """Beat job: one relay per ready tenant, each sent from its own schema."""
    from civicgrid.tenants.selectors import ready_tenant_schemas

    return send_to_each(ready_tenant_schemas(), relay_outbox)
