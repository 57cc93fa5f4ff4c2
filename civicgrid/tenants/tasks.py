"""Onboarding as a Celery task: the queued form of ``actions.onboard_tenant``.

Runs in ``public`` (it is sent from there). The tenant-health tasks live in
``civicgrid.province.tasks``: they read domain apps."""

from __future__ import annotations

from civicgrid.config.celery import app

from .models import OnboardingJob


@app.task(name="civicgrid.tenants.tasks.run_onboarding_job", acks_late=True)
def run_onboarding_job(job_id: str) -> str:
    from .actions import run_onboarding_job as run_job

    job = OnboardingJob.objects.select_related("requested_by").get(pk=job_id)
    return run_job(job=job).status
