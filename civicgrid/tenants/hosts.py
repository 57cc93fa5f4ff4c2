"""Which tenant answers on a host, without a query per request.

Every request starts by resolving its host. The answer (tenant row and what the domain
serves) is kept in each process and dropped when any tenant or domain changes: the change
bumps a version in Redis (after its commit), and each process compares its version at most
once a second, so a suspension or a new domain reaches every process within a second,
and at once in the process that made it. With Redis unreachable the version is unknown and
nothing is kept: each request reads the row, as before this cache, rather than trust a
tenant that may have been suspended meanwhile.

Unknown hosts are never kept: a scan of made-up host names must not grow the cache.
"""

from __future__ import annotations

import copy
import logging
import threading
import time

from django.core.cache import cache
from django.db import transaction
from django_tenants.utils import schema_context

from .models import Domain, Tenant

VERSION_KEY = "tenants:hosts:version"
CHECK_SECONDS = 1.0
MAX_HOSTS = 20_000  # a province has a few thousand (counties and community sites); past this, start again

logger = logging.getLogger(__name__)
_UNKNOWN = object()


class _HostCache:
    def __init__(self):
        self.entries: dict[str, tuple[Tenant, str]] = {}
        self.version: object = _UNKNOWN
        self.checked_at = 0.0
        self.lock = threading.Lock()

    def current(self) -> bool:
        """Drops the entries if another process changed a tenant or domain; False when
        the version cannot be read (nothing may be kept then)."""
        now = time.monotonic()
        if self.version is not _UNKNOWN and now - self.checked_at < CHECK_SECONDS:
            return True
        version = _read_version()
        with self.lock:
            if version is _UNKNOWN or version != self.version:
                self.entries = {}
            self.version, self.checked_at = version, now
        return version is not _UNKNOWN

    def forget(self) -> None:
        with self.lock:
            self.entries = {}
            self.version = _UNKNOWN


_cache = _HostCache()


def tenant_for_host(hostname: str) -> Tenant:
    """A copy of the tenant answering on ``hostname``, with ``domain_serves`` set (the copy
    is the request's own: nothing a request sets on it reaches another). Raises
    ``Domain.DoesNotExist`` for an unknown host."""
    keep = _cache.current()
    found = _cache.entries.get(hostname) if keep else None
    if found is None:
        domain = Domain.objects.select_related("tenant").get(domain=hostname)
        found = (domain.tenant, domain.serves)
        if keep:
            with _cache.lock:
                if len(_cache.entries) >= MAX_HOSTS:
                    _cache.entries = {}
                _cache.entries[hostname] = found
    tenant = copy.copy(found[0])
    tenant.active_plugins = list(tenant.active_plugins or ())  # a list of the request's own
    tenant.domain_serves = found[1]
    return tenant


def hosts_changed() -> None:
    """Tell every process, once the current transaction commits, that a tenant or a domain
    changed (called by the signals in ``signals.py``). This process forgets at once too:
    its own next request must not be answered from what it kept before the change."""
    _cache.forget()
    transaction.on_commit(_bump)


def forget() -> None:
    """Drop what this process keeps (tests roll back changes no signal reports)."""
    _cache.forget()


def _bump() -> None:
    _cache.forget()
    try:
        with schema_context("public"):  # the cache's key function reads the schema
            try:
                cache.incr(VERSION_KEY)
            except ValueError:  # never set, or evicted: start from the clock, never from a version in use
                cache.set(VERSION_KEY, time.time_ns(), None)
    except Exception:
        # Other processes see the change when Redis is back (their version read fails
        # meanwhile, so they keep nothing); this one has already forgotten.
        logger.warning("tenant hosts: could not tell other processes of a change", exc_info=True)


def _read_version():
    try:
        with schema_context("public"):
            version = cache.get(VERSION_KEY)
            if version is None:
                cache.add(VERSION_KEY, time.time_ns(), None)
                version = cache.get(VERSION_KEY)
            return _UNKNOWN if version is None else version
    except Exception:
        logger.warning("tenant hosts: the cache is unreachable; reading the host's tenant on every request")
        return _UNKNOWN
