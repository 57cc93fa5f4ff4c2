"""civicgrid search reindex [--tenant …] | rebuild | status [--tenant …]

``reindex`` rebuilds the case index of one tenant, or of every ready tenant, with a
progress bar; searches keep working while it runs (documents are replaced in place).
``rebuild`` is for a new index layout: with Elasticsearch every tenant is written into
a new index and the aliases swap to it at once (no downtime); with PostgreSQL it is a
reindex of every tenant. ``status`` prints the backend's health and each tenant's
documents and queue."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import tenant_context
from tqdm import tqdm

from civicgrid.search import health, indexing
from civicgrid.search.backends import backend
from civicgrid.search.query import SearchUnavailable
from civicgrid.tenants.commands import tenant_argument
from civicgrid.tenants.models import Tenant
from civicgrid.tenants.selectors import ready_tenant_schemas


class Command(BaseCommand):
    help = "Rebuild the case search index, or show its state."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        for name, text in (("reindex", "Rebuild the index from the cases (searches go on meanwhile)."),
                           ("rebuild", "Rebuild every tenant into a new index layout and switch to it at once."),
                           ("status", "The backend's health, and each tenant's documents and queue.")):
            command = sub.add_parser(name, help=text)
            if name != "rebuild":
                command.add_argument("--tenant", help="schema name or division code (default: every ready tenant)")
            command.add_argument("--no-progress", action="store_true")

    def handle(self, *args, action, tenant=None, **options):
        tenants = [tenant_argument(tenant)] if tenant else list(
            Tenant.objects.filter(schema_name__in=ready_tenant_schemas()).order_by("schema_name"))
        getattr(self, f"handle_{action}")(tenants, **options)

    def handle_reindex(self, tenants, *, no_progress=False, engine=None, **options):
        for tenant in tenants:
            with tenant_context(tenant):
                bar = tqdm(desc=f"{tenant.schema_name}", unit="case", disable=no_progress, file=self.stderr)

                def show(done, total, bar=bar):
                    bar.total = total
                    bar.n = done
                    bar.refresh()

                try:
                    report = indexing.reindex(progress=show, engine=engine)
                except SearchUnavailable as exc:
                    raise CommandError(f"{tenant.schema_name}: the search backend is unavailable: {exc}") from exc
                finally:
                    bar.close()
                health.record_success()
                self.stdout.write(f"{tenant.schema_name}: {report.cases} cases in {report.seconds:.1f} s "
                                  f"({report.rate:,.0f}/s)")

    def handle_rebuild(self, tenants, *, no_progress=False, **options):
        engine = backend()
        if not hasattr(engine, "rebuild"):  # PostgreSQL: each tenant's documents are replaced in place
            self.handle_reindex(tenants, no_progress=no_progress)
            return

        def fill(schema, target):
            self.handle_reindex([Tenant.objects.get(schema_name=schema)], no_progress=no_progress, engine=target)

        try:
            index = engine.rebuild(fill)
        except SearchUnavailable as exc:
            raise CommandError(f"the rebuild failed and the old index stays in use: {exc}") from exc
        self.stdout.write(f"every tenant now reads {index}")

    def handle_status(self, tenants, **options):
        engine = backend()
        state = engine.health()
        self.stdout.write(f"backend {engine.name}: {'ok' if state.ok else 'DOWN'} {state.detail}".rstrip())
        for tenant in tenants:
            with tenant_context(tenant):
                waiting, age = indexing.queue_backlog()
                try:
                    documents = str(engine.count(tenant.schema_name))
                except SearchUnavailable:
                    documents = "?"
                flag = " degraded" if health.status().degraded else ""
                self.stdout.write(f"{tenant.schema_name}: documents={documents} waiting={waiting} "
                                  f"oldest={age:.0f}s{flag}")
