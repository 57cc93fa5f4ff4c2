"""Sessions kept in PostgreSQL, read from Redis: a signed-in request costs no database
statement for its session (issue 14's hot path), and Redis stays optional.

PostgreSQL is the truth. Every save and delete goes to it first; Redis holds a copy that
is used only when it is known to be current. Redis being down, hung or emptied costs
speed, never correctness:

- reading: any error, and any copy not known current, falls back to the database; a copy
  is written with ``add`` after a database read, so it never overwrites a sign-out;
- a save drops the copy (the next read copies the row again); a delete (sign-out, a new
  key at sign-in) leaves a GONE mark, so a request racing the sign-out cannot put the
  session back;
- a process that met an error stops asking Redis for a second (a hung Redis holds one
  request, not every request), and treats whatever Redis holds as suspect;
- a copy that could not be dropped (sign-out while Redis was unreachable) must never come
  back when Redis does. Every copy carries the *epoch* it was written in, one value in
  Redis for all schemas; a suspect process replaces the epoch on its first successful
  contact, before it reads anything, which makes every older copy worthless at once. A
  process starts suspect, so one that died holding an undropped copy is replaced by one
  that retires it. (A process that met no error during the outage and serves the copy
  before any suspect one returns is the window left; a request in an outage is enough
  to make a process suspect.)

Django's own ``cached_db`` does not do this: its cache write after a database read and
its delete raise when Redis is down (a sign-out would fail), and a copy its delete missed
is served again when Redis returns.
"""

from __future__ import annotations

import logging
import secrets
import time

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore as DatabaseStore
from django.core.cache import caches

logger = logging.getLogger(__name__)

CACHE_ALIAS = "sessions"
EPOCH_KEY = "epoch"
PAUSE_AFTER_ERROR = 1.0  # seconds without asking Redis after an error
GONE = "gone"  # what Redis holds for a signed-out session


class _Health:
    """This process's view of Redis for sessions."""

    suspect = True  # until this process has retired every copy it cannot vouch for
    retry_at = 0.0


def _cache():
    return caches[CACHE_ALIAS]


def _failed(during: str) -> None:
    _Health.suspect = True
    _Health.retry_at = time.monotonic() + PAUSE_AFTER_ERROR
    logger.warning("session cache unavailable (%s); reading sessions from the database", during,
                   exc_info=True)


def _paused() -> bool:
    return time.monotonic() < _Health.retry_at


def _new_epoch() -> str:
    epoch = secrets.token_hex(8)
    _cache().set(EPOCH_KEY, epoch, None)
    _Health.suspect = False
    return epoch


def _read(session_key: str) -> tuple[str | None, object, bool]:
    """The current epoch; what Redis says of the session: its data if the copy is current,
    GONE if it was signed out, None if Redis has nothing usable; and whether an outdated
    copy is there (to be replaced). The epoch is None when Redis cannot be trusted or
    reached now."""
    if _paused():
        return None, None, False
    try:
        if _Health.suspect:
            _new_epoch()
        found = _cache().get_many([EPOCH_KEY, session_key])
        copy, epoch = found.get(session_key), found.get(EPOCH_KEY)
        if copy == GONE:
            return epoch, GONE, False  # true in any epoch: a deleted session's key is never used again
        if epoch is None:  # Redis lost its keys (restarted empty, evicted): start an epoch
            epoch = secrets.token_hex(8)
            return (epoch if _cache().add(EPOCH_KEY, epoch, None) else None), None, copy is not None
        if copy is not None and copy[0] == epoch:
            return epoch, copy[1], False
        return epoch, None, copy is not None
    except Exception:
        _failed("read")
        return None, None, False


def _keep(session_key: str, data: dict, age: int, epoch: str, *, replace: bool = False) -> None:
    """Copy what the database just gave. ``add``, not ``set``: if the session was signed
    out meanwhile, its GONE mark is there and must stay. An outdated copy (an earlier
    epoch) is replaced; a sign-out in the same instant as that is the one race left."""
    try:
        if replace:
            _cache().set(session_key, (epoch, data), age)
        else:
            _cache().add(session_key, (epoch, data), age)
    except Exception:
        _failed("write")


def _mark(session_key: str, value, timeout: int | None = None) -> None:
    """Replace whatever Redis holds for the session: GONE after a sign-out, or nothing
    after a save (the next read copies the row again)."""
    try:
        if _paused():
            raise ConnectionError("paused after an earlier error")
        if value is None:
            _cache().delete(session_key)
        else:
            _cache().set(session_key, value, timeout)
    except Exception:
        _failed("invalidate")  # a copy may outlive the change: this process retires the epoch


class SessionStore(DatabaseStore):
    def load(self):
        epoch, known, outdated = _read(self.session_key) if self.session_key else (None, None, False)
        if known == GONE:
            self._session_key = None
            return {}
        if known is not None:
            return known
        stored = self._get_session_from_db()
        if not stored:
            return {}
        data = self.decode(stored.session_data)
        if epoch is not None:
            _keep(self.session_key, data, self.get_expiry_age(expiry=stored.expire_date), epoch,
                  replace=outdated)
        return data

    def save(self, must_create=False):
        super().save(must_create)
        _mark(self.session_key, None)

    def delete(self, session_key=None):
        session_key = session_key or self.session_key
        super().delete(session_key)
        if session_key:
            _mark(session_key, GONE, settings.SESSION_COOKIE_AGE)

    def flush(self):
        self.clear()
        self.delete(self.session_key)
        self._session_key = None

    # The async doors (channels' consumers, async views) go through the same rules.
    async def aload(self):
        return await sync_to_async(self.load)()

    async def asave(self, must_create=False):
        await sync_to_async(self.save)(must_create)

    async def adelete(self, session_key=None):
        await sync_to_async(self.delete)(session_key)

    async def aflush(self):
        await sync_to_async(self.flush)()
