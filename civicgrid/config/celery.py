"""The Celery app. Every task carries the schema it was sent from (tenant-schemas-celery)
and refuses to run without one: a task with no tenant context must fail loudly rather
than quietly run in ``public`` (tenant-schemas-celery #132)."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicgrid.config.settings.dev")

from celery.signals import setup_logging  # noqa: E402
from django.conf import settings  # noqa: E402
from tenant_schemas_celery.app import CeleryApp  # noqa: E402
from tenant_schemas_celery.task import TenantTask  # noqa: E402

from civicgrid.config import broker  # noqa: E402

# Before any broker connection: a worker must survive a Redis restart (see broker.py).
broker.register()


class MissingTenantContext(RuntimeError):
    """A task arrived without the schema it belongs to."""


class SchemaBoundTask(TenantTask):
    abstract = True

    def __call__(self, *args, **kwargs):
        headers = self.request.headers or {}
        schema = headers.get("_schema_name") or self.request.get("_schema_name")
        if not schema:
            raise MissingTenantContext(f"task {self.name} was sent without a tenant schema; refusing to run")
        from civicgrid.plugins.manager import switched_off_here

        if switched_off_here(self.run.__module__):  # a plugin's task in a tenant that switched it off
            return None
        return super().__call__(*args, **kwargs)


class CivicGridCelery(CeleryApp):
    task_cls = "civicgrid.config.celery:SchemaBoundTask"


def keep_djangos_logging(loglevel=None, **kwargs):
    """With JSON lines (CIVICGRID_LOG_FORMAT=json), a worker's and beat's lines are Django's
    (civicgrid.platform.monitoring.logs) rather than Celery's own text: Celery configures
    nothing when a receiver answers this signal. Celery's loggers keep the --loglevel given."""
    import logging.config

    logging.config.dictConfig(settings.LOGGING)
    logging.getLogger("celery").setLevel(loglevel or "INFO")


if settings.CIVICGRID_LOG_FORMAT == "json":
    setup_logging.connect(keep_djangos_logging, weak=False)

app = CivicGridCelery("civicgrid")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def send_to_each(schemas, task, **options) -> int:
    """A beat job's fan-out: one ``task`` per schema, each sent from its own schema (so it
    carries it); ``options`` go to ``apply_async``. Returns how many were sent."""
    from django_tenants.utils import schema_context

    for schema in schemas:
        with schema_context(schema):
            task.apply_async(**options)
    return len(schemas)

