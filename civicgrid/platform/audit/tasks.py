"""The monthly archive of old audit rows: beat fans out one ``archive_tenant`` per ready
tenant (each sent from its own schema), and the province's own trail is archived in
the fan-out task itself. Rows younger than ``CIVICGRID_AUDIT_RETENTION_DAYS`` stay.

Daily, ``anchor_all_schemas`` publishes every schema's chain head (``anchors``)."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_context

from civicgrid.config.celery import app, send_to_each


def retention_cutoff() -> datetime.date:
    from .actions import MINIMUM_RETENTION_DAYS

    days = settings.CIVICGRID_AUDIT_RETENTION_DAYS
    if days < MINIMUM_RETENTION_DAYS:
        raise ImproperlyConfigured(
            f"CIVICGRID_AUDIT_RETENTION_DAYS is {days}; audit rows are kept at least {MINIMUM_RETENTION_DAYS} days")
    return timezone.localdate() - datetime.timedelta(days=days)


@app.task(name="civicgrid.platform.audit.tasks.archive_tenant", acks_late=True)
def archive_tenant() -> int:
    """Archive the schema it was sent from; how many rows left the table."""
    from .actions import archive_before

    if connection.schema_name == get_public_schema_name():
        raise RuntimeError("archive_tenant must be sent from a tenant schema")
    return archive_before(before=retention_cutoff(), acting_user=None, purpose="retention").count


@app.task(name="civicgrid.platform.audit.tasks.archive_all_tenants")
def archive_all_tenants() -> int:
    """Beat job: the province's own trail here, then one archive task per ready tenant."""
    from civicgrid.tenants.selectors import ready_tenant_schemas

    from .actions import archive_before

    cutoff = retention_cutoff()  # refuses a retention below six months before anything runs
    with schema_context(get_public_schema_name()):
        archive_before(before=cutoff, acting_user=None, purpose="retention")
    return send_to_each(ready_tenant_schemas(), archive_tenant)


@app.task(name="civicgrid.platform.audit.tasks.anchor_all_schemas", acks_late=True)
def anchor_all_schemas() -> int:
    """Beat job (daily, in public): every schema's chain head to the anchor table and storage.
    Run twice, it only publishes the heads again: harmless."""
    from .anchors import anchor_all

    return len(anchor_all())
