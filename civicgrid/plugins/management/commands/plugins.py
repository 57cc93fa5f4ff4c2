"""civicgrid plugins list | enable | disable | statements

``list`` shows every plugin this installation found (refused ones with the
reason) and, with ``--tenant``, whether it is on there. ``enable`` and
``disable`` switch one plugin for one tenant, as its county admin would (audited,
acting user "system"). ``statements`` makes a month's statements (default: last
month) and prints them."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from civicgrid.plugins import actions, billing, selectors
from civicgrid.plugins.catalog import sync_catalog
from civicgrid.tenants.commands import tenant_argument


class Command(BaseCommand):
    help = "List plugins, switch one on or off for a tenant, make monthly statements."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        listing = sub.add_parser("list", help="Every plugin found, with its state (and a tenant's switches).")
        listing.add_argument("--tenant", help="schema name or division code: show what is on there")
        for name, text in (("enable", "Switch a published plugin on for a tenant."),
                           ("disable", "Switch a plugin off for a tenant (its data stays).")):
            switch = sub.add_parser(name, help=text)
            switch.add_argument("plugin_id")
            switch.add_argument("--tenant", required=True, help="schema name or division code")
        statements = sub.add_parser("statements", help="Make and print a month's statements.")
        statements.add_argument("--month", help="YYYY-MM (default: last month)")
        statements.add_argument("--tenant", help="print only this tenant's (all are made)")

    def handle(self, *args, action, **options):
        try:
            getattr(self, f"handle_{action}")(**options)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc

    def handle_list(self, *, tenant=None, **_):
        on_here = set(tenant_argument(tenant).active_plugins) if tenant else set()
        counts = selectors.activation_counts()
        for entry in sync_catalog():
            state = "refused: " + entry.problem if entry.problem else ("published" if entry.published else
                                                                       "not published")
            where = ("on" if entry.plugin_id in on_here else "off") if tenant else f"on in {counts.get(entry.plugin_id, 0)}"
            vendor = entry.vendor.code if entry.vendor else "-"
            self.stdout.write(f"{entry.plugin_id}\t{entry.version or '-'}\t{vendor}\t{state}\t{where}")

    def handle_enable(self, *, plugin_id, tenant, **_):
        found = tenant_argument(tenant)
        actions.enable_plugin(tenant=found, plugin_id=plugin_id, acting_user=None)
        self.stdout.write(f"{plugin_id} is on in {found.schema_name}")

    def handle_disable(self, *, plugin_id, tenant, **_):
        found = tenant_argument(tenant)
        actions.disable_plugin(tenant=found, plugin_id=plugin_id, acting_user=None)
        self.stdout.write(f"{plugin_id} is off in {found.schema_name} (its data stays)")

    def handle_statements(self, *, month=None, tenant=None, **_):
        if month:
            try:
                period = date.fromisoformat(f"{month}-01")
            except ValueError as exc:
                raise CommandError(f"--month {month!r} is not YYYY-MM") from exc
        else:
            period = billing.previous_month(timezone.localdate())
        made = billing.make_statements(period)
        only = tenant_argument(tenant) if tenant else None
        for statement in made:
            if only is not None and statement.tenant_id != only.pk:
                continue
            self.stdout.write(f"{period:%Y-%m}\t{statement.tenant.schema_name}\t{statement.plugin.plugin_id}\t"
                              f"{statement.total} {statement.currency}")
            for line in statement.lines.all():
                self.stdout.write(f"\t{line.meter}\t{line.quantity.normalize():f} {line.unit}\t"
                                  f"free {line.free.normalize():f}\tx {line.unit_price} = {line.amount}")
        self.stdout.write(f"{len(made)} statements for {period:%Y-%m}")
