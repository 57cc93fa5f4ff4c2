"""A job run by a process of its own in one tenant, for the tests that run two at once:
``python -m tests.faults.tenant_job sweep|relay SCHEMA [NOW]`` prints what it did as JSON."""

from __future__ import annotations

import json
import os
import sys


def main(job: str, schema: str, now: str = "") -> dict:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicgrid.config.settings.test")
    django.setup()
    from datetime import datetime

    from django_tenants.utils import tenant_context

    from civicgrid.tenants.models import Tenant

    # The tenant itself, as a worker's task gets it: its switched-on plugins come with it.
    with tenant_context(Tenant.objects.get(schema_name=schema)):
        if job == "sweep":
            from civicgrid.platform.cases.sweep import sweep

            summary = sweep(now=datetime.fromisoformat(now) if now else None)
            return {k: v for k, v in summary.items() if k != "timings"}
        if job == "relay":
            from civicgrid.platform.notifications.outbox import relay

            return {"delivered": relay()}
    raise SystemExit(f"unknown job {job}")


if __name__ == "__main__":
    print("RESULT " + json.dumps(main(*sys.argv[1:])), flush=True)
