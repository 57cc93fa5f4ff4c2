"""Reading the catalog, activations, usage and statements."""

from __future__ import annotations

from datetime import date

from django.db.models import Count, Q, Sum
from django.utils.translation import gettext as _

from civicgrid.platform.accounts.models import ProvinceRole
from civicgrid.tenants.models import Tenant

from .manager import hooks_for, runtime_problems
from .models import Activation, CatalogEntry, Statement, UsageRecord


def tenants_with_plugins() -> list[str]:
    return list(Tenant.objects.filter(status=Tenant.Status.ACTIVE).exclude(active_plugins=[])
                .values_list("schema_name", flat=True))


def catalog_for_tenant(tenant: Tenant) -> list[dict]:
    """What a county admin may switch: published plugins, and any still switched on
    here after the province withdrew it (so it can be switched off), with their state here."""
    enabled = set(tenant.active_plugins or ())
    return [{"entry": entry, "enabled": entry.plugin_id in enabled, "problem": run_problem(entry)}
            for entry in (CatalogEntry.objects.filter(Q(published=True) | Q(plugin_id__in=enabled))
                          .select_related("vendor").prefetch_related("prices"))]


def run_problem(entry: CatalogEntry) -> str:
    """Why the plugin cannot run in this installation now; empty when it can. The catalog's
    reason is as of its last sync; this process's own (a setting missing here) counts too."""
    return (entry.problem or runtime_problems().get(entry.plugin_id, "")
            or ("" if entry.installed else _("it is not installed")))


def catalog_row_for_tenant(tenant: Tenant, plugin_id: str) -> dict | None:
    """One row of ``catalog_for_tenant``; None for a plugin the county admin may not see."""
    return next((row for row in catalog_for_tenant(tenant) if row["entry"].plugin_id == plugin_id), None)


def province_catalog():
    """Every plugin the installation knows of, refused ones included."""
    return CatalogEntry.objects.select_related("vendor").prefetch_related("prices")


def prices_by_meter(entry: CatalogEntry, day: date) -> list[dict]:
    """Each meter of ``entry`` with the price in force on ``day`` and the prices set for
    later days (reads ``entry.prices``, so prefetch it for a list)."""
    prices = sorted(entry.prices.all(), key=lambda p: p.effective_from)
    rows = []
    for meter in entry.meters:
        own = [p for p in prices if p.meter == meter["id"]]
        in_force = [p for p in own if p.effective_from <= day]
        rows.append({"meter": meter, "price": in_force[-1] if in_force else None,
                     "later": [p for p in own if p.effective_from > day]})
    return rows


def contributions(plugin_id: str) -> dict[str, list]:
    """What switching the plugin on puts into a tenant (and switching it off takes back)."""
    hooks = hooks_for((plugin_id,))
    return {"categories": hooks.collect("civicgrid_case_categories"),
            "registry_kinds": hooks.collect("civicgrid_registry_kinds")}


def vendor_plugins(vendor):
    return CatalogEntry.objects.filter(vendor=vendor)


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
    if membership is None or not user.is_active or user.province_role != ProvinceRole.VENDOR:
        return None
    return membership.vendor


def revenue_by_tenant(vendor, period=None) -> list[dict]:
    found = Statement.objects.filter(plugin__vendor=vendor)
    if period is not None:
        found = found.filter(period=period)
    return list(found.values("period", "tenant__name", "plugin__plugin_id")
                .annotate(total=Sum("total")).filter(~Q(total=None)).order_by("-period", "tenant__name"))
