"""Plugins: the contract vendors build on, the hooks, the plugin manager, the
catalog, per-tenant activation, metering and billing.

What a plugin imports lives here; importing this package loads no models, so a
plugin's ``apps`` module can import it while settings load.
"""

from .contract import Meter, PluginConfig, Price
from .hookspecs import hookimpl
from .types import (
    CaseEvent,
    CategorySpec,
    ImportField,
    ImportTarget,
    NavEntry,
    NotificationChannel,
    PeriodicJob,
    RegistryKindSpec,
    SearchDocument,
    Widget,
)


def meter(metric: str, quantity=1, *, idempotency_key: str, plugin: str | None = None) -> bool:
    """Count ``quantity`` of ``metric`` for the current tenant; True when counted, False
    when this ``idempotency_key`` was counted before. See ``metering.meter``."""
    from .metering import meter as _meter

    return _meter(metric, quantity, idempotency_key=idempotency_key, plugin=plugin, _depth=2)


__all__ = [
    "CaseEvent", "CategorySpec", "ImportField", "ImportTarget", "Meter", "NavEntry", "NotificationChannel", "PeriodicJob", "PluginConfig", "Price",
    "RegistryKindSpec", "SearchDocument", "Widget", "hookimpl", "meter",
]
