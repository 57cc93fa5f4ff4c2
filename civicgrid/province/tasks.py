"""The province's tasks: onboarding (the queued form of ``onboarding.onboard_tenant``),
tenant health (the figures the province page shows of each tenant) and the daily
aggregates each tenant publishes for supervision (``publishing``).

Province-level tasks run in ``public``; per-tenant tasks are sent with the
tenant's schema set, so they run there (and refuse to run with none).

The tasks moved here from ``civicgrid.tenants.tasks`` and keep their names:
a task's name is what the broker and the beat schedule carry, so jobs queued
before the move are still found."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from civicgrid.config.celery import app, send_to_each
from civicgrid.tenants.models import OnboardingJob, Tenant, TenantHealth
from civicgrid.tenants.selectors import ready_tenant_schemas


# ignore_result: the job row holds the outcome; sending must not wait on the result store.
@app.task(name="civicgrid.tenants.tasks.run_onboarding_job", acks_late=True, ignore_result=True)
def run_onboarding_job(job_id: str) -> str:
    """Run a queued onboarding job; sent from ``public``, so it runs there."""
    from .onboarding import run_onboarding_job as run_job

    job = OnboardingJob.objects.select_related("requested_by").get(pk=job_id)
    return run_job(job=job).status


@app.task(name="civicgrid.province.tasks.resend_queued_onboarding")
def resend_queued_onboarding() -> int:
    """Beat job (in public): send again the onboarding jobs still queued, whose task was never
    sent (the broker was down when they were asked for) or was lost with Redis."""
    from .onboarding import send_onboarding

    waiting = list(OnboardingJob.objects.filter(status=OnboardingJob.Status.QUEUED).values_list("pk", flat=True))
    for job_id in waiting:
        send_onboarding(job_id)
    return len(waiting)


@app.task(name="civicgrid.tenants.tasks.refresh_tenant_health")
def refresh_tenant_health() -> dict:
    """Count this tenant's staff and activity and publish the aggregate to public."""
    from civicgrid.platform.accounts.staff.models import StaffProfile
    from civicgrid.platform.audit.models import AuditEntry
    from civicgrid.platform.notifications.dead_letters import dead_letters

    schema = connection.schema_name
    if schema == "public":
        raise RuntimeError("refresh_tenant_health must be sent from a tenant schema")
    figures = {
        "staff_count": StaffProfile.objects.count(),
        "active_staff_count": StaffProfile.objects.filter(is_active=True).count(),
        "audit_entries_last_day": AuditEntry.objects.filter(at__gte=timezone.now() - timedelta(days=1)).count(),
        "outbox_dead_letters": dead_letters().count(),
    }
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind = 'r'",
            [schema],
        )
        figures["schema_size_bytes"] = int(cursor.fetchone()[0])
    with schema_context("public"):
        tenant = Tenant.objects.get(schema_name=schema)
        TenantHealth.objects.update_or_create(tenant=tenant, defaults={**figures, "refreshed_at": timezone.now()})
    return {"schema": schema, **figures}


@app.task(name="civicgrid.tenants.tasks.refresh_all_tenant_health")
def refresh_all_tenant_health() -> int:
    """Beat job: fan out one task per active tenant, each sent from its own schema."""
    return send_to_each(ready_tenant_schemas(), refresh_tenant_health)


# Beat sends the fan-out every 15 minutes; a publication still queued by the next one would
# only repeat it.
PUBLISH_EXPIRES_SECONDS = 900


@app.task(name="civicgrid.province.tasks.publish_tenant_aggregates", acks_late=True)
def publish_tenant_aggregates() -> dict:
    """Publish yesterday's and today's figures of the schema it was sent from (yesterday
    again, so the evening's facts and the end-of-day overdue count land once the day is
    over; today, so the province watches the day as it goes)."""
    from .publishing import publish_daily_aggregates

    schema = connection.schema_name
    if schema == "public":
        raise RuntimeError("publish_tenant_aggregates must be sent from a tenant schema")
    tenant = Tenant.objects.get(schema_name=schema)
    today = timezone.localdate()
    published = [publish_daily_aggregates(tenant=tenant, day=day) for day in (today - timedelta(days=1), today)]
    return {"schema": schema, "days": [str(p.day) for p in published], "rows": [p.rows for p in published]}


@app.task(name="civicgrid.province.tasks.publish_all_aggregates")
def publish_all_aggregates() -> int:
    """Beat job: one publication per ready tenant, each sent from its own schema."""
    return send_to_each(ready_tenant_schemas(), publish_tenant_aggregates, expires=PUBLISH_EXPIRES_SECONDS)


@app.task(name="civicgrid.province.tasks.purge_due_tenants")
def purge_due_tenants() -> list[str]:
    """Beat job (daily): delete the offboarded tenants whose grace period is over."""
    from .offboarding import purge_due

    return [done.schema_name for done in purge_due(acting_user=None)]


@app.task(name="civicgrid.province.tasks.run_offboarding", acks_late=True)
def run_offboarding(tenant_id: int, grace_days: int, reason: str, user_id: int | None) -> str:
    """The province page's offboarding: archive (with progress for the page) and record the
    due date. Sent from ``public``. A second delivery finds it done and does nothing."""
    from civicgrid.platform.accounts.models import User
    from civicgrid.tenants import progress

    from .models import TenantOffboarding
    from .offboarding import OffboardingRefused, offboard_tenant, progress_key

    tenant = Tenant.objects.get(pk=tenant_id)
    if TenantOffboarding.objects.filter(tenant=tenant, status=TenantOffboarding.Status.PENDING).exists():
        return "already"
    key = progress_key(tenant)
    try:
        offboard_tenant(tenant=tenant, grace_days=grace_days, reason=reason,
                        acting_user=User.objects.filter(pk=user_id).first(),
                        progress=lambda done, total, step: progress.publish(key, done=done, total=total, step=step))
    except OffboardingRefused as refused:
        progress.publish(key, done=0, total=1, step=str(refused))
        return "refused"
    return "pending"
