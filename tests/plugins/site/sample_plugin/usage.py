"""Plugin code outside any hook: ``meter()`` finds the plugin by this module's package."""

from civicgrid.plugins import meter


def count_check(key: str) -> bool:
    return meter("check", idempotency_key=key)
