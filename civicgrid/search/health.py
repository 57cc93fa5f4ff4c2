"""Whether search is degraded, as pages and the API tell their users.

Degraded means the backend failed its last call (and has not answered since), or
cases have waited in the index queue longer than ``STALE_AFTER``: results may
then miss recent changes. The last failure is kept in the cache (per schema,
as every cache key is), so every process sees it; a cache that is down itself
counts as no news.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.core.cache import cache
from django.utils import timezone

logger = logging.getLogger(__name__)
FAILURE_KEY = "search:failure"
FAILURE_TTL = 15 * 60
STALE_AFTER = 120  # seconds a case may wait for indexing before results count as stale


@dataclass
class SearchStatus:
    degraded: bool
    reason: str = ""  # "unavailable" | "behind"
    waiting: int = 0


def record_failure(detail: str) -> None:
    try:
        cache.set(FAILURE_KEY, {"at": timezone.now().isoformat(), "detail": detail[:300]}, FAILURE_TTL)
    except Exception:
        logger.warning("search: could not record the backend's failure", exc_info=True)


def record_success() -> None:
    try:
        cache.delete(FAILURE_KEY)
    except Exception:
        logger.warning("search: could not clear the backend's failure", exc_info=True)


def last_failure() -> dict | None:
    try:
        return cache.get(FAILURE_KEY)
    except Exception:
        return None


def status() -> SearchStatus:
    from .indexing import queue_backlog

    if last_failure():
        return SearchStatus(degraded=True, reason="unavailable")
    waiting, age = queue_backlog()
    if age > STALE_AFTER:
        return SearchStatus(degraded=True, reason="behind", waiting=waiting)
    return SearchStatus(degraded=False, waiting=waiting)
