"""Publishing a tenant's daily figures to the province (``public``).

``publish_daily_aggregates`` is the only writer of ``DailyAggregate`` and ``DailyTotal``.
Callers: the Celery task ``tasks.publish_tenant_aggregates`` (beat, every 15 minutes, for
yesterday and today) and the backfill command ``civicgrid province publish``.

No audit row: a publication is the platform recomputing figures it can recompute at any
time from the tenant's own cases, every quarter of an hour for every tenant; what it
writes is its own record (``DailyTotal.published_at``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db import transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from civicgrid.platform.cases.publishing import daily_aggregates
from civicgrid.tenants.models import Tenant

from .models import MEASURES, DailyAggregate, DailyTotal


@dataclass(frozen=True)
class Published:
    tenant: str
    day: date
    rows: int
    totals: dict[str, int]


def publish_daily_aggregates(*, tenant: Tenant, day: date, now: datetime | None = None) -> Published:
    """Replaces ``tenant``'s figures for ``day`` in ``public`` with what its cases say now.

    Idempotent: the same cases give the same rows. Two workers at once queue on the
    tenant's row lock (taken before reading), so the later one reads after the earlier one
    committed and neither leaves a duplicate; the unique constraints stand behind that."""
    if tenant.is_public:
        raise ValueError("the province publishes nothing about itself")
    now = now or timezone.now()
    with transaction.atomic():
        Tenant.objects.select_for_update().filter(pk=tenant.pk).values_list("pk", flat=True).get()
        with tenant_context(tenant):
            rows = daily_aggregates(day, now=now)
        DailyAggregate.objects.filter(tenant=tenant, day=day).delete()
        DailyAggregate.objects.bulk_create([DailyAggregate(tenant=tenant, day=day, **row) for row in rows])
        totals = {key: sum(row[key] for row in rows) for key in MEASURES}
        DailyTotal.objects.update_or_create(tenant=tenant, day=day, defaults={**totals, "published_at": now})
    return Published(tenant=tenant.schema_name, day=day, rows=len(rows), totals=totals)
