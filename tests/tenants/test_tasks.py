"""Celery tasks against a real worker: they run in the schema they were sent from,
refuse to run without one, and onboarding runs as a task with progress."""

import time

import pytest
from celery import Celery
from django_tenants.utils import schema_exists, tenant_context

from civicgrid.config.celery import app
from civicgrid.platform.accounts.staff.models import StaffProfile
from civicgrid.province.onboarding import queue_health_refresh, request_onboarding
from civicgrid.province.tasks import refresh_tenant_health
from civicgrid.tenants import progress
from civicgrid.tenants.models import OnboardingJob, Tenant, TenantHealth
from tests.world import discard_tenant

pytestmark = pytest.mark.slow


def staff_in(tenant) -> int:
    with tenant_context(tenant):
        return StaffProfile.objects.count()


def test_a_task_runs_in_the_schema_it_was_sent_from(committed, celery_worker):
    TenantHealth.objects.filter(tenant__schema_name__in=["shangcheng", "yuhang"]).delete()
    # Counted here rather than written down: other committed tests may have added staff to a
    # county (the module tests' department handlers); what matters is each task's own schema.
    expected = {"shangcheng": staff_in(committed.shangcheng), "yuhang": staff_in(committed.yuhang)}
    assert expected["shangcheng"] != expected["yuhang"]  # else the check below could not tell them apart
    with tenant_context(committed.shangcheng):
        shangcheng = refresh_tenant_health.delay().get(timeout=30)
    with tenant_context(committed.yuhang):
        yuhang = refresh_tenant_health.delay().get(timeout=30)
    assert shangcheng["schema"] == "shangcheng" and shangcheng["staff_count"] == expected["shangcheng"]
    assert yuhang["schema"] == "yuhang" and yuhang["staff_count"] == expected["yuhang"]
    assert TenantHealth.objects.get(tenant=committed.shangcheng).staff_count == expected["shangcheng"]
    assert TenantHealth.objects.get(tenant=committed.yuhang).staff_count == expected["yuhang"]


def test_onboarding_queues_the_health_refresh(committed, celery_worker):
    TenantHealth.objects.filter(tenant=committed.yuhang).delete()
    queue_health_refresh("yuhang")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not TenantHealth.objects.filter(tenant=committed.yuhang).exists():
        time.sleep(0.2)
    assert TenantHealth.objects.get(tenant=committed.yuhang).staff_count == staff_in(committed.yuhang)


def test_a_task_without_a_schema_refuses_to_run(committed, celery_worker):
    before = list(TenantHealth.objects.order_by("tenant_id").values_list("tenant_id", "refreshed_at"))
    # Celery's own send_task, without tenant-schemas-celery's header.
    result = Celery.send_task(app, "civicgrid.tenants.tasks.refresh_tenant_health",
                              queue=app.conf.task_default_queue)
    with pytest.raises(Exception) as failure:
        result.get(timeout=30)
    assert "MissingTenantContext" in repr(failure.value) or "without a tenant schema" in str(failure.value)
    assert result.state == "FAILURE"
    assert list(TenantHealth.objects.order_by("tenant_id").values_list("tenant_id", "refreshed_at")) == before


def test_onboarding_runs_as_a_task_with_progress(committed, celery_worker):
    job = request_onboarding(params={
        "name": "临平区", "division_code": "330113", "level": "county", "parent_code": "330100",
        "domain": "linping.localhost", "admin_password": "a-long-password"}, acting_user=None)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            job.refresh_from_db()
            if job.is_finished:
                break
            time.sleep(0.2)
        assert job.status == OnboardingJob.Status.SUCCEEDED, job.error
        assert job.tenant.status == Tenant.Status.ACTIVE and schema_exists("linping")
        live = progress.read(job.pk)
        assert live["done"] == live["total"] > 0
        # Running the finished job again changes nothing.
        from civicgrid.province.onboarding import run_onboarding_job

        assert run_onboarding_job(job=job).status == OnboardingJob.Status.SUCCEEDED
        assert Tenant.objects.filter(division_code="330113").count() == 1
    finally:
        discard_tenant("330113")
