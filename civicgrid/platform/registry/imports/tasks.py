"""Imports queued from the console run here, in the schema they were sent from."""

from __future__ import annotations

from civicgrid.config.celery import app, send_to_each


# ignore_result: the batch row holds the outcome; sending must not wait on the result store.
@app.task(name="civicgrid.platform.registry.imports.tasks.run_import_batch", acks_late=True, ignore_result=True)
def run_import_batch(batch_id: int) -> str:
    from .actions import run_import
    from .models import ImportBatch

    batch = ImportBatch.objects.select_related("department").get(pk=batch_id)
    return run_import(batch=batch).status


@app.task(name="civicgrid.platform.registry.imports.tasks.resend_queued_imports")
def resend_queued_imports() -> int:
    """Beat job: per ready tenant, send again the batches still queued, whose task was never
    sent (the broker was down when they were queued) or was lost with Redis."""
    from civicgrid.tenants.selectors import ready_tenant_schemas

    return send_to_each(ready_tenant_schemas(), send_queued_imports)


@app.task(name="civicgrid.platform.registry.imports.tasks.send_queued_imports")
def send_queued_imports() -> int:
    from .actions import send_import
    from .models import ImportBatch

    waiting = list(ImportBatch.objects.filter(status=ImportBatch.Status.QUEUED).values_list("pk", flat=True))
    for batch_id in waiting:
        send_import(batch_id)
    return len(waiting)
