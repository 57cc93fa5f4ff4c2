"""civicgrid province publish [--tenant X] [--days N]: publish (or backfill) the daily
aggregates the province's supervision pages read (``civicgrid.province.publishing``).

civicgrid province init: the province's own tenant row and domain, so the base domain serves
the province site (and its health view, which deploy/'s health checks ask). Idempotent: the
deployments' migrate job runs it after every ``civicgrid migrate``."""

from __future__ import annotations

import os
from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from civicgrid.province.onboarding import ensure_province
from civicgrid.province.publishing import publish_daily_aggregates
from civicgrid.tenants.commands import tenant_argument
from civicgrid.tenants.models import Tenant
from civicgrid.tenants.selectors import tenants_for_province


class Command(BaseCommand):
    help = "Province supervision: publish each tenant's daily aggregates to the province."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        publish = sub.add_parser("publish", help="Publish (or backfill) daily aggregates, up to today.")
        publish.add_argument("--tenant", help="division code or schema name (default: every active tenant)")
        publish.add_argument("--days", type=int, default=2, help="how many days back, today included (default 2)")
        publish.add_argument("--no-progress", action="store_true", help="no progress bar")
        init = sub.add_parser("init", help="Create the province's own tenant row and domain (idempotent).")
        init.add_argument("--name", default=os.environ.get("CIVICGRID_PROVINCE_NAME", ""),
                          help="the province's name (default: $CIVICGRID_PROVINCE_NAME)")
        init.add_argument("--division-code", default=os.environ.get("CIVICGRID_PROVINCE_CODE", ""),
                          help="its administrative division code (default: $CIVICGRID_PROVINCE_CODE)")
        init.add_argument("--domain", default=None, help="its host (default: CIVICGRID_BASE_DOMAIN)")

    def handle(self, *args, action, **options):
        getattr(self, f"handle_{action}")(**options)

    def handle_init(self, **o):
        if not o["name"] or not o["division_code"]:
            raise CommandError("--name and --division-code are required "
                               "(or CIVICGRID_PROVINCE_NAME and CIVICGRID_PROVINCE_CODE)")
        domain = o["domain"] or settings.CIVICGRID_BASE_DOMAIN
        province = ensure_province(name=o["name"], division_code=o["division_code"], domain=domain)
        self.stdout.write(f"province {province.name} ({province.division_code}) answers on "
                          f"{', '.join(province.domains.values_list('domain', flat=True))}")

    def handle_publish(self, **o):
        if o["days"] < 1:
            raise CommandError("--days must be at least 1")
        if o["tenant"]:
            tenants = [tenant_argument(o["tenant"])]
            if tenants[0].status != Tenant.Status.ACTIVE:
                raise CommandError(f"{tenants[0]} is {tenants[0].get_status_display()}, not active")
        else:
            tenants = list(tenants_for_province().filter(status=Tenant.Status.ACTIVE))
        today = timezone.localdate()
        days = [today - timedelta(days=back) for back in range(o["days"] - 1, -1, -1)]
        rows = 0
        with tqdm(total=len(tenants) * len(days), unit="day", disable=o["no_progress"]) as bar:
            for tenant in tenants:
                bar.set_description(tenant.name)
                for day in days:
                    rows += publish_daily_aggregates(tenant=tenant, day=day).rows
                    bar.update()
        self.stdout.write(f"published {len(days)} day(s) for {len(tenants)} tenant(s): {rows} row(s)")
