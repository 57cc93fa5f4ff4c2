"""Reading the catalog, activations, usage and statements."""

from __future__ import annotations

from django.db.models import Count, Q, Sum

from civicgrid.tenants.models import Tenant

from .manager import runtime_problems
from .models import Activation, CatalogEntry, Statement, UsageRecord


def tenants_with_plugins() -> list[str]:
    return list(Tenant.objects.filter(status=Tenant.Status.ACTIVE).exclude(active_plugins=[])
                .values_list("schema_name", flat=True))


def catalog_for_tenant(tenant: Tenant) -> list[dict]:
    """What a county admin may switch: published plugins, with their state here."""
    problems = runtime_problems()
    enabled = set(tenant.active_plugins or ())
    rows = []
    for entry in CatalogEntry.objects.filter(published=True).select_related("vendor").prefetch_related("prices"):
        rows.append({"entry": entry, "enabled": entry.plugin_id in enabled,
                     "problem": entry.problem or problems.get(entry.plugin_id, "")
                     or ("" if entry.installed else "not installed")})
    return rows


def catalog_entry(plugin_id: str) -> CatalogEntry | None:
    return CatalogEntry.objects.select_related("vendor").filter(plugin_id=plugin_id).first()


def activation_counts() -> dict[str, int]:
    return dict(Activation.objects.filter(enabled=True).values_list("plugin__plugin_id")
                .annotate(n=Count("id")).values_list("plugin__plugin_id", "n"))


def statements(*, vendor=None, period=None):
    found = Statement.objects.select_related("tenant", "plugin", "vendor").prefetch_related("lines")
    if vendor is not None:
        found = found.filter(plugin__vendor=vendor)
    if period is not None:
        found = found.filter(period=period)
    return found


def vendor_usage(vendor, start, end) -> list[dict]:
    """A vendor's plugins' use per tenant and meter over [start, end): counts only."""
    plugin_ids = list(CatalogEntry.objects.filter(vendor=vendor).values_list("plugin_id", flat=True))
    return list(UsageRecord.objects.filter(plugin_id__in=plugin_ids, at__gte=start, at__lt=end)
                .values("tenant__name", "plugin_id", "metric").annotate(quantity=Sum("quantity"))
                .order_by("tenant__name", "plugin_id", "metric"))


def vendor_of(user):
    membership = getattr(user, "vendor_membership", None) if user.is_authenticated else None
    if membership is None or not user.is_active or user.province_role != "vendor":
        return None
    return membership.vendor


def revenue_by_tenant(vendor) -> list[dict]:
    return list(Statement.objects.filter(plugin__vendor=vendor).values("period", "tenant__name", "plugin__plugin_id")
                .annotate(total=Sum("total")).filter(~Q(total=None)).order_by("-period", "tenant__name"))
