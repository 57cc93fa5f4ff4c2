"""Keeping the catalog in step with what is installed (public schema)."""

from __future__ import annotations

from datetime import date

from django.db import transaction

from .discovery import discover
from .manager import plugin_configs, runtime_problems
from .models import CatalogEntry, Price, Vendor

# Default prices bill every month from the first (the provincial admin sets new ones from a date on).
DEFAULT_PRICES_FROM = date(2000, 1, 1)


@transaction.atomic
def sync_catalog() -> list[CatalogEntry]:
    """Record every plugin discovery saw, installed or refused, with its reason;
    mark plugins no longer installed. Publishing stays the provincial admin's call."""
    configs, problems = plugin_configs(), runtime_problems()
    seen = set()
    for info in discover().plugins:
        seen.add(info.id)
        config = configs.get(info.id)
        entry, _ = CatalogEntry.objects.get_or_create(plugin_id=info.id, defaults={"name": info.id})
        entry.installed = config is not None
        entry.problem = info.problem or problems.get(info.id, "")
        entry.version = info.version
        if config is not None:
            _describe(entry, config)
        entry.save()
        if config is not None:
            _default_prices(entry, config)
    CatalogEntry.objects.exclude(plugin_id__in=seen).update(installed=False, problem="not installed")
    return list(CatalogEntry.objects.select_related("vendor"))


def _describe(entry: CatalogEntry, config) -> None:
    entry.name = str(config.verbose_name or config.plugin_id)
    entry.name_en = config.name_en
    entry.description = config.description
    entry.meters = [{"id": m.id, "unit": m.unit, "name": m.name, "name_en": m.name_en} for m in config.meters]
    if config.vendor:
        entry.vendor, _ = Vendor.objects.get_or_create(code=config.vendor,
                                                       defaults={"name": config.vendor_name or config.vendor})


def _default_prices(entry: CatalogEntry, config) -> None:
    """A meter nobody priced yet bills at the plugin's default price."""
    for price in config.default_prices:
        if not Price.objects.filter(plugin=entry, meter=price.meter).exists():
            Price.objects.create(plugin=entry, meter=price.meter, unit_price=price.unit_price, free=price.free,
                                 effective_from=DEFAULT_PRICES_FROM)
