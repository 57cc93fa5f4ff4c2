"""What every ``civicgrid`` command that works in one tenant shares."""

from __future__ import annotations

from django.core.management.base import CommandError

from .models import Tenant
from .selectors import tenant_by_key


def tenant_argument(key: str) -> Tenant:
    """The tenant a command's ``--tenant`` names (schema name or division code)."""
    tenant = tenant_by_key(key)
    if tenant is None:
        raise CommandError(f"no tenant with schema or division code {key!r}")
    return tenant
