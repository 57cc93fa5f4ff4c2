"""Live progress of onboarding jobs, kept in the cache under the public schema.

The onboarding transaction is invisible to other connections until it
commits, so progress cannot live in the job's row while it runs. Progress is a
courtesy: with the cache (Redis) down it is not shown, and the work goes on.
"""

from __future__ import annotations

import logging

from django.core.cache import cache
from django_tenants.utils import schema_context

TTL_SECONDS = 24 * 3600
logger = logging.getLogger(__name__)


def _key(job_id) -> str:
    return f"onboarding-progress:{job_id}"


def publish(job_id, *, done: int, total: int, step: str) -> None:
    try:
        with schema_context("public"):
            cache.set(_key(job_id), {"done": done, "total": total, "step": step}, TTL_SECONDS)
    except Exception:  # the cache down must not fail the onboarding itself
        logger.warning("progress of %s not kept: the cache is unavailable", job_id)


def read(job_id) -> dict | None:
    try:
        with schema_context("public"):
            return cache.get(_key(job_id))
    except Exception:  # the page shows the job's own state instead
        return None
