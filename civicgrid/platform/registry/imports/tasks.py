"""Imports queued from the console run here, in the schema they were sent from."""

from __future__ import annotations

from civicgrid.config.celery import app


# ignore_result: the batch row holds the outcome; sending must not wait on the result store.
@app.task(name="civicgrid.platform.registry.imports.tasks.run_import_batch", acks_late=True, ignore_result=True)
def run_import_batch(batch_id: int) -> str:
    from .actions import run_import
    from .models import ImportBatch

    batch = ImportBatch.objects.select_related("department").get(pk=batch_id)
    return run_import(batch=batch).status
