"""Reads about tenants, from the public schema."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils.translation import gettext

from . import progress as onboarding_progress
from .models import Domain, OnboardingJob, Tenant

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


def tenant_by_key(key: str) -> Tenant | None:
    """A city or county by its schema name or its division code (the commands' --tenant)."""
    return Tenant.objects.exclude(schema_name=PUBLIC_SCHEMA).filter(Q(schema_name=key) | Q(division_code=key)).first()


def every_schema() -> list[str]:
    """The province's own schema, then every city's and county's, whatever their status."""
    return [PUBLIC_SCHEMA, *Tenant.objects.exclude(schema_name=PUBLIC_SCHEMA).order_by("schema_name")
            .values_list("schema_name", flat=True)]


def ready_tenant_schemas() -> list[str]:
    return list(
        Tenant.objects.exclude(schema_name=PUBLIC_SCHEMA)
        .filter(status=Tenant.Status.ACTIVE)
        .values_list("schema_name", flat=True)
    )


def public_tenant() -> Tenant | None:
    return Tenant.objects.filter(schema_name=PUBLIC_SCHEMA).first()


def port_suffix(request) -> str:
    port = request.get_port()
    return "" if port in ("80", "443") else f":{port}"


def onboarding_job_state(job: OnboardingJob, request=None) -> dict:
    """What the province page and API show of a job: the row's outcome plus live progress."""
    live = onboarding_progress.read(job.pk) or {}
    finished = job.is_finished
    step = job.step if finished else live.get("step", "")
    total = live.get("total") or 1
    percent = 100 if job.status == OnboardingJob.Status.SUCCEEDED else int(100 * live.get("done", 0) / total)
    tenant_url = ""
    if job.tenant_id and request is not None:
        tenant_url = f"{request.scheme}://{job.tenant.primary_domain}{port_suffix(request)}/"
    return {
        "id": str(job.pk),
        "status": job.status,
        "status_label": job.get_status_display(),
        "step_label": gettext(step) if step else "",  # gettext("") would return the catalogue header
        "percent": percent,
        "finished": finished,
        "error": job.error,
        "tenant": job.tenant.schema_name if job.tenant_id else None,
        "tenant_url": tenant_url,
    }
