"""Rate limits kept in Redis (django-ratelimit), shared by every public form and sign-in."""

from __future__ import annotations

import ipaddress
import logging

from django.conf import settings
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


def retry_after(request, *, group: str, rate: str | None = None, value: str | None = None) -> int | None:
    """Counts this try against the limit named ``group`` (its rate from the setting
    ``CIVICGRID_RATE_LIMITS`` unless given); over it, the seconds until the window ends
    (for a Retry-After header), else None. Redis down: None, as for ``over_limit``."""
    rate = rate or settings.CIVICGRID_RATE_LIMITS[group]
    key = "ip" if value is None else (lambda _group, _request: value)
    try:
        usage = get_usage(request, group=group, key=key, rate=rate, increment=True)
    except Exception:
        logger.warning("rate limit %s not kept: the cache is unavailable", group, exc_info=True)
        return None
    if usage is None or not usage["should_limit"]:
        return None
    return max(1, int(usage["time_left"]))


def first_over(request, *limits: tuple[str, str | None]) -> int | None:
    """Each ``(group, value)`` in turn (value None: the client's address); the first one over
    its limit answers with its Retry-After. All are counted, so one cannot be dodged by
    tripping another first."""
    waits = [retry_after(request, group=group, value=value) for group, value in limits]
    found = [wait for wait in waits if wait is not None]
    return max(found) if found else None


def client_address(request) -> str:
    """The client's address for the per-address limits (django-ratelimit's
    ``RATELIMIT_IP_META_KEY``). Behind ``CIVICGRID_TRUSTED_PROXIES`` proxies (nginx in deploy/)
    REMOTE_ADDR is the proxy's, the same for everyone: the address is the entry the nearest
    trusted proxy appended to X-Forwarded-For, counted from the right. Entries further left
    are whatever the client claimed and are never believed."""
    remote = request.META.get("REMOTE_ADDR", "")
    hops = settings.CIVICGRID_TRUSTED_PROXIES
    if hops <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) < hops:
        return remote
    try:
        return str(ipaddress.ip_address(forwarded[-hops]))
    except ValueError:
        return remote
