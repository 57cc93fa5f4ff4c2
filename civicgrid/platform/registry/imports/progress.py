"""Live progress of a running import, in the cache (keys carry the schema).

The batch row only changes in its own short transactions; between them the
worker reports here, a few times a second at most. Progress is a courtesy: with
the cache (Redis) down it is not shown, and the import goes on regardless.
"""

from __future__ import annotations

import logging
import time

from django.core.cache import cache
from django.utils.translation import gettext_noop

TTL_SECONDS = 24 * 3600
PHASES = {
    "queued": (0, gettext_noop("Waiting for a worker")),
    "reading": (0, gettext_noop("Reading and checking rows")),
    "checking": (80, gettext_noop("Looking for duplicate ID numbers")),
    "matching": (85, gettext_noop("Matching with the registry")),
    "applying": (92, gettext_noop("Applying changes")),
    "done": (100, gettext_noop("Done")),
}
READING_SHARE = 80  # percent of the bar for reading the file
CACHE_RETRY_SECONDS = 30
logger = logging.getLogger(__name__)


def _key(batch_id) -> str:
    return f"registry-import-progress:{batch_id}"


class Reporter:
    """Publishes progress; ``also`` (a command line's bar) hears every report."""

    def __init__(self, batch_id, also=None, interval: float = 0.25):
        self.batch_id, self.also, self.interval = batch_id, also, interval
        self._last = 0.0
        self._cache_down_until = 0.0

    def phase(self, name: str, done: int = 0, total: int = 0) -> None:
        start = PHASES[name][0]
        percent = start + (READING_SHARE * done / total if name == "reading" and total else 0)
        if time.monotonic() >= self._cache_down_until:
            try:
                cache.set(_key(self.batch_id), {"phase": name, "done": done, "total": total,
                                                "percent": round(min(percent, 100), 1)}, TTL_SECONDS)
            except Exception:  # the cache down must not fail (or refuse to queue) the import itself
                logger.warning("registry import %s: progress not kept, the cache is unavailable", self.batch_id)
                # A hung cache costs its timeout per call: leave it alone for a while.
                self._cache_down_until = time.monotonic() + CACHE_RETRY_SECONDS
        if self.also:
            self.also(name, done, total)

    def reading(self, done: int, total: int) -> None:
        now = time.monotonic()
        if self.also:
            self.also("reading", done, total)
        if now - self._last >= self.interval or (total and done >= total):
            self._last = now
            also, self.also = self.also, None
            try:
                self.phase("reading", done, total)
            finally:
                self.also = also


def read(batch_id) -> dict | None:
    try:
        return cache.get(_key(batch_id))
    except Exception:  # the page shows the batch's own state instead
        return None
