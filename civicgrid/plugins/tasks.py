"""Beat jobs: monthly statements, and plugins' periodic jobs in the tenants that
have them switched on (a plugin switched off gets no jobs run)."""

from __future__ import annotations

from datetime import date

from django.core.cache import cache
from django.utils import timezone

from civicgrid.config.celery import app, send_to_each


@app.task(name="civicgrid.plugins.tasks.make_monthly_statements")
def make_monthly_statements(period: str | None = None) -> int:
    """Last month's statements (or ``period``'s, YYYY-MM-DD); running it again changes nothing."""
    from .billing import make_statements, previous_month

    day = date.fromisoformat(period) if period else previous_month(timezone.localdate())
    return len(make_statements(day))


@app.task(name="civicgrid.plugins.tasks.run_all_plugin_jobs")
def run_all_plugin_jobs() -> int:
    """Beat job: one task per ready tenant with a plugin switched on, sent from its own schema."""
    from .selectors import tenants_with_plugins

    return send_to_each(tenants_with_plugins(), run_plugin_jobs)


@app.task(name="civicgrid.plugins.tasks.run_plugin_jobs")
def run_plugin_jobs() -> list[str]:
    """Run the active plugins' jobs that are due in this tenant. A cache key per job,
    added only if absent and living as long as the job's interval, makes a job run
    once per interval however many workers and beats there are."""
    from .manager import call_as_plugin, tenant_hooks

    ran = []
    for plugin_id, job in tenant_hooks().by_plugin("civicgrid_periodic_jobs"):
        if cache.add(f"plugin-job:{plugin_id}:{job.name}", timezone.now().isoformat(),
                     timeout=max(int(job.every.total_seconds()), 1)):
            call_as_plugin(plugin_id, job.run)
            ran.append(f"{plugin_id}:{job.name}")
    return ran


@app.task(name="civicgrid.plugins.tasks.deliver_all_unread")
def deliver_all_unread() -> int:
    """Beat job: per ready tenant with a plugin on, hand what stayed unread to its channels."""
    from .selectors import tenants_with_plugins

    return send_to_each(tenants_with_plugins(), deliver_unread_notifications)


@app.task(name="civicgrid.plugins.tasks.deliver_unread_notifications", acks_late=True)
def deliver_unread_notifications() -> int:
    from .channels import deliver_unread

    return deliver_unread()
