"""Counting a plugin's billable uses (public schema, no personal data)."""

from __future__ import annotations

import sys
from decimal import Decimal, InvalidOperation

from django.apps import apps
from django.db import connection
from django.utils import timezone

from .manager import active_plugin_ids, current_plugin, plugin_configs


class MeteringError(Exception):
    """A plugin metered something it may not (wrong meter, no tenant, switched off)."""


INSERT = """
INSERT INTO public.plugins_usagerecord (tenant_id, plugin_id, metric, quantity, at, idempotency_key)
VALUES (%s, %s, %s, %s, %s, %s)
ON CONFLICT ON CONSTRAINT usage_counted_once DO NOTHING
RETURNING id
"""


def meter(metric: str, quantity=1, *, idempotency_key: str, plugin: str | None = None, _depth: int = 1) -> bool:
    """Record ``quantity`` units of ``metric`` for the current tenant and the calling
    plugin. Returns True when counted, False when this key was counted before (a
    retried job or a redelivered event counts once). Runs in the caller's
    transaction: a use that is rolled back is not billed."""
    plugin_id = plugin or current_plugin.get() or _calling_plugin(_depth)
    config = plugin_configs().get(plugin_id or "")
    if config is None:
        raise MeteringError("meter() is for plugin code: name the plugin, or call it from the plugin's package")
    if metric not in config.meter_ids():
        raise MeteringError(f"{plugin_id} declares no meter {metric!r} (declared: {sorted(config.meter_ids())})")
    tenant = getattr(connection, "tenant", None)
    if tenant is None or connection.schema_name == "public" or not getattr(tenant, "pk", None):
        raise MeteringError("meter() needs a tenant: call it in the tenant's schema")
    if plugin_id not in active_plugin_ids(tenant):
        raise MeteringError(f"{plugin_id} is switched off in {connection.schema_name}: nothing is billed")
    if not idempotency_key or len(idempotency_key) > 200:
        raise MeteringError("an idempotency_key of 1 to 200 characters is required")
    try:
        amount = Decimal(str(quantity))
    except InvalidOperation as exc:
        raise MeteringError(f"quantity {quantity!r} is not a number") from exc
    if amount <= 0:
        raise MeteringError("quantity must be more than zero")
    with connection.cursor() as cursor:
        cursor.execute(INSERT, [tenant.pk, plugin_id, metric, amount, timezone.now(), idempotency_key])
        return cursor.fetchone() is not None


def _calling_plugin(depth: int) -> str | None:
    module = sys._getframe(depth + 1).f_globals.get("__name__", "")
    config = apps.get_containing_app_config(module)
    return getattr(config, "plugin_id", None) if getattr(config, "is_civicgrid_plugin", False) else None
