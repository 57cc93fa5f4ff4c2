"""Published figures for page tests.

The supervision pages read only what tenants published to ``public``, never a tenant's
schema; so a tenant of another city can be a bare ``Tenant`` row here (no schema), and its
days are rows as ``publishing.publish_daily_aggregates`` would have written them. The
publishing path itself is tested through the actions in ``test_publishing.py``."""

from __future__ import annotations

from datetime import date, timedelta

from django.utils import timezone

from civicgrid.province.models import MEASURES, DailyAggregate, DailyTotal
from civicgrid.tenants.models import Tenant


def bare_tenant(name: str, code: str, level: str, parent: Tenant | None = None) -> Tenant:
    return Tenant.objects.create(schema_name=f"bare_{code}", name=name, division_code=code, level=level,
                                 parent=parent, status=Tenant.Status.ACTIVE)


def publish_days(tenant: Tenant, *, days: int = 1, today: date | None = None, kinds=(("DSP-CONSUMER", "DSP"),),
                 townships=("T01",), **per_row) -> None:
    """``days`` days up to today, one detail row per kind and township with ``per_row``
    figures, and the day's total as their sum."""
    today = today or timezone.localdate()
    for back in range(days):
        day = today - timedelta(days=back)
        rows = [DailyAggregate(tenant=tenant, day=day, category_code=code, category_name=code, kind_code=kind,
                               kind_name=kind, org_unit_code=township, org_unit_name=f"{township}街道", **per_row)
                for code, kind in kinds for township in townships]
        DailyAggregate.objects.bulk_create(rows)
        totals = {key: sum(getattr(row, key) for row in rows) for key in MEASURES}
        DailyTotal.objects.create(tenant=tenant, day=day, published_at=timezone.now(), **totals)
