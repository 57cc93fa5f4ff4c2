"""Rate limits kept in Redis (django-ratelimit), shared by every public form and sign-in."""

from __future__ import annotations

import logging

from django_ratelimit.core import get_usage, is_ratelimited

logger = logging.getLogger(__name__)


def over_limit(request, *, group: str, rate: str, value: str | None = None, count: bool = True) -> bool:
    """Over ``rate`` for the client's address (or for ``value``, a phone say)? ``count``
    False only looks (the try is counted later, if it succeeds). With Redis down the limits
    are not kept: a resident's report or a sign-in is taken rather than refused for a fault
    of ours (the lockout after wrong passwords lives in the database and still holds)."""
    key = "ip" if value is None else (lambda _group, _request: value)
    try:
        if count:
            return is_ratelimited(request, group=group, key=key, rate=rate, increment=True)
        usage = get_usage(request, group=group, key=key, rate=rate, increment=False)
    except Exception:
        logger.warning("rate limit %s not kept: the cache is unavailable", group, exc_info=True)
        return False
    return usage is not None and usage["count"] >= usage["limit"]  # the next one would be over
