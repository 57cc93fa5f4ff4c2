"""The deadline sweep as Celery tasks: beat fans out one ``sweep_tenant`` per ready
tenant, each sent from its own schema so it runs there (tenant-schemas-celery), and a
task that arrives without a tenant schema refuses to run."""

from __future__ import annotations

from django.db import connection
from django_tenants.utils import get_public_schema_name

from civicgrid.config.celery import app, send_to_each

# The beat sends a fan-out every five minutes; a sweep still queued when the next one is
# sent would only repeat it, so it expires instead of piling up behind a stopped worker.
SWEEP_EXPIRES_SECONDS = 300
EARLY_WARNING_EXPIRES_SECONDS = 900


@app.task(name="civicgrid.platform.cases.tasks.sweep_tenant", acks_late=True)
def sweep_tenant() -> dict:
    """Reminders, overdue facts and automatic escalation for the schema it was sent from."""
    from .sweep import sweep

    if connection.schema_name == get_public_schema_name():
        raise RuntimeError("sweep_tenant must be sent from a tenant schema")
    return sweep()


@app.task(name="civicgrid.platform.cases.tasks.sweep_all_tenants")
def sweep_all_tenants() -> int:
    """Beat job: one sweep per ready tenant, each sent from its own schema."""
    from civicgrid.tenants.selectors import ready_tenant_schemas

    return send_to_each(ready_tenant_schemas(), sweep_tenant, expires=SWEEP_EXPIRES_SECONDS)


@app.task(name="civicgrid.platform.cases.tasks.early_warning_tenant", acks_late=True)
def early_warning_tenant() -> int:
    """Today's spikes for the schema it was sent from; how many were newly raised."""
    from .early_warning import raise_early_warnings

    if connection.schema_name == get_public_schema_name():
        raise RuntimeError("early_warning_tenant must be sent from a tenant schema")
    return len(raise_early_warnings())


@app.task(name="civicgrid.platform.cases.tasks.early_warning_all_tenants")
def early_warning_all_tenants() -> int:
    """Beat job: one early-warning pass per ready tenant."""
    from civicgrid.tenants.selectors import ready_tenant_schemas

    return send_to_each(ready_tenant_schemas(), early_warning_tenant, expires=EARLY_WARNING_EXPIRES_SECONDS)


# --- thumbnails -------------------------------------------------------------------------


@app.task(name="civicgrid.platform.cases.tasks.make_thumbnails", acks_late=True, ignore_result=True)
def make_thumbnails(attachment_ids: list[int]) -> int:
    """Thumbnails of the attachments a report stored, made after its commit (idempotent)."""
    from .attachments import make_thumbnail_for
    from .models import Attachment

    made = 0
    for attachment in Attachment.objects.filter(pk__in=attachment_ids, kind="image", thumbnail=""):
        made += _thumbnail_or_log(make_thumbnail_for, attachment)
    return made


@app.task(name="civicgrid.platform.cases.tasks.backfill_thumbnails_tenant", acks_late=True)
def backfill_thumbnails_tenant() -> int:
    """Any image older than a minute still without a thumbnail (its task was lost)."""
    from .attachments import make_thumbnail_for, missing_thumbnails

    if connection.schema_name == get_public_schema_name():
        raise RuntimeError("backfill_thumbnails_tenant must be sent from a tenant schema")
    return sum(_thumbnail_or_log(make_thumbnail_for, a) for a in missing_thumbnails(older_than_seconds=60))


@app.task(name="civicgrid.platform.cases.tasks.backfill_thumbnails_all_tenants")
def backfill_thumbnails_all_tenants() -> int:
    from civicgrid.tenants.selectors import ready_tenant_schemas

    return send_to_each(ready_tenant_schemas(), backfill_thumbnails_tenant, expires=SWEEP_EXPIRES_SECONDS)


def _thumbnail_or_log(make, attachment) -> int:
    """One attachment's thumbnail; a file that cannot be read is logged and skipped
    (its page shows the photo itself), never retried forever."""
    import logging

    try:
        return int(make(attachment))
    except Exception:
        logging.getLogger(__name__).warning("no thumbnail for attachment %s", attachment.pk, exc_info=True)
        return 0
