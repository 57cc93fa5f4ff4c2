"""Reads about tenants, from the public schema."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import Domain, Tenant

PUBLIC_SCHEMA = "public"


def active_tenant_for_host(host: str) -> Tenant | None:
    """The tenant that answers on ``host``, or None for unknown and suspended hosts."""
    domain = Domain.objects.select_related("tenant").filter(domain=host.lower()).first()
    if domain is None or domain.tenant.status != Tenant.Status.ACTIVE:
        return None
    return domain.tenant


def tenants_for_province() -> QuerySet[Tenant]:
    """Every city and county, public schema excluded."""
    return (
        Tenant.objects.exclude(schema_name=PUBLIC_SCHEMA)
        .select_related("parent", "health")
        .prefetch_related("domains")
        .order_by("division_code")
    )


def ready_tenant_schemas() -> list[str]:
    return list(
        Tenant.objects.exclude(schema_name=PUBLIC_SCHEMA)
        .filter(status=Tenant.Status.ACTIVE)
        .values_list("schema_name", flat=True)
    )


def public_tenant() -> Tenant | None:
    return Tenant.objects.filter(schema_name=PUBLIC_SCHEMA).first()
