"""Live progress of onboarding jobs, kept in the cache under the public schema.

The onboarding transaction is invisible to other connections until it
commits, so progress cannot live in the job's row while it runs.
"""

from __future__ import annotations

from django.core.cache import cache
from django_tenants.utils import schema_context

TTL_SECONDS = 24 * 3600


def _key(job_id) -> str:
    return f"onboarding-progress:{job_id}"


def publish(job_id, *, done: int, total: int, step: str) -> None:
    with schema_context("public"):
        cache.set(_key(job_id), {"done": done, "total": total, "step": step}, TTL_SECONDS)


def read(job_id) -> dict | None:
    with schema_context("public"):
        return cache.get(_key(job_id))
