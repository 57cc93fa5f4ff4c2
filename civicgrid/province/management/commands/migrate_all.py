"""civicgrid migrate (``migrate_all``): the schemas through ``civicgrid.tenants.schemas.migrate_all``,
then the plugin catalog. It lives above the domain apps for the catalog's sake."""

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from civicgrid.tenants.schemas import TEMPLATE_SCHEMA, all_migration_keys, migrate_all, pending_migrations
from civicgrid.tenants.selectors import ready_tenant_schemas


class Command(BaseCommand):
    help = "Migrate public, then the template schema, then every tenant that has anything to apply."

    def add_arguments(self, parser):
        parser.add_argument("--no-progress", action="store_true")
        parser.add_argument("--check", action="store_true",
                            help="Change nothing; exit 1 naming the schemas with migrations pending "
                                 "(an app container waits on it until the migrate job is done).")

    def handle(self, *args, **options):
        from civicgrid.tenants.models import Tenant

        try:
            tenants = list(Tenant.objects.exclude(schema_name="public").values_list("schema_name", flat=True))
        except Exception:  # first run: the tenants table does not exist yet
            tenants = []
        if options["check"]:
            return self.check_pending(tenants)
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

    def check_pending(self, tenants: list[str]) -> None:
        known = all_migration_keys()
        behind = [schema for schema in ["public", TEMPLATE_SCHEMA, *tenants] if pending_migrations(schema, known)]
        if behind:
            shown = ", ".join(behind[:10]) + (f" and {len(behind) - 10} more" if len(behind) > 10 else "")
            raise CommandError(f"migrations pending in {len(behind)} schema(s): {shown}", returncode=1)
        self.stdout.write(f"nothing pending in public, {TEMPLATE_SCHEMA} and {len(tenants)} tenant schema(s)")
