"""civicgrid migrate (``migrate_all``): the schemas through ``civicgrid.tenants.schemas.migrate_all``,
then the plugin catalog. It lives above the domain apps for the catalog's sake."""

from django.core.management.base import BaseCommand
from tqdm import tqdm

from civicgrid.tenants.schemas import TEMPLATE_SCHEMA, migrate_all
from civicgrid.tenants.selectors import ready_tenant_schemas


class Command(BaseCommand):
    help = "Migrate public, then the template schema, then every tenant that has anything to apply."

    def add_arguments(self, parser):
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, **options):
        from civicgrid.tenants.models import Tenant

        try:
            tenants = list(Tenant.objects.exclude(schema_name="public").values_list("schema_name", flat=True))
        except Exception:  # first run: the tenants table does not exist yet
            tenants = []
        verbosity = max(options["verbosity"] - 1, 0)
        bar = tqdm(total=len(tenants) + 1, desc="migrate", unit="schema", disable=options["no_progress"])

        def advance(schema, migrated):
            bar.set_postfix_str(f"{schema}: {'migrated' if migrated else 'up to date'}")
            bar.update(1)

        report = migrate_all(tenants, on_schema=advance, verbosity=verbosity)
        bar.close()
        # The catalog lists what this installation has now: new plugins, gone ones, broken ones.
        from civicgrid.plugins.catalog import sync_catalog

        catalog = sync_catalog()
        self.stdout.write(
            f"migrated: {', '.join(report.migrated) or 'nothing'}; up to date: {len(report.skipped)} "
            f"(template {TEMPLATE_SCHEMA}, {len(ready_tenant_schemas())} active tenants); "
            f"plugins in the catalog: {sum(e.installed for e in catalog)} installed of {len(catalog)}"
        )
