"""Reads from a PostgreSQL streaming replica, inside an explicit scope only.

With ``DATABASE_REPLICA_URL`` set, ``DATABASES["replica"]`` is a streaming replica of the
primary (``default``). Dashboards, the supervision pages and search read much and write
nothing: they run inside ``reads_from_replica`` (views: ``replica_reads``), and only there may
a read go to the replica. Everything else reads from the primary, and every write goes to
the primary, inside the scope too (``ReplicaRouter``).

The first read of a scope decides, once for the whole scope, where it reads:

- the primary when no replica is configured, when the replica cannot be reached (logged;
  the page answers from the primary), when it is no standby (promoted, or misconfigured),
  or when it lags more than ``CIVICGRID_REPLICA_MAX_LAG`` seconds;
- the primary for a signed-in user whose last write the replica has not replayed yet
  (read-your-writes): a request of theirs that wrote on the primary records the primary's
  WAL position once it is done (``ReadYourWritesMiddleware``, ``pg_current_wal_lsn()``),
  in the cache under the user's id for a little longer than the lag bound, and the scope
  compares it with the replica's ``pg_last_wal_replay_lsn()``;
- the replica otherwise.

A read inside a transaction on the primary stays on the primary: it must see what the
transaction wrote, and may lock what it reads.

The replica's state is checked at most once a second per process (``CHECK_SECONDS``), an
unreachable one every few seconds, so a scope costs no query of its own on most requests.
Its lag is how old the newest write it may be missing could be: nothing while it has
replayed all the primary had written when last checked; otherwise the time since the later
of the commit it replayed last (``pg_last_xact_replay_timestamp()``) and the last moment
this process saw it caught up. The replay timestamp alone would be misleading both ways:
on an idle primary it grows while nothing is missing, and it says nothing of a replica cut
off from its primary. A replay position cached for a second only errs towards the primary:
it only ever moves forward.

django-tenants sets the tenant's ``search_path`` on the default connection only; the replica's
connection takes the default connection's tenant each time a read is sent to it
(``_follow_tenant``), so a request for tenant A reads tenant A's schema on the replica too.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import wraps
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, DatabaseError, InterfaceError, OperationalError, connections
from django_tenants.utils import schema_context

REPLICA = "replica"
CHECK_SECONDS = 1.0
UNREACHABLE_RETRY_SECONDS = 5.0
WRITTEN_KEY = "replicas:written:{user_id}"
# SQLSTATEs of a server that went away or is not accepting connections (classes 08 and 57P).
LOST_CONNECTION_STATES = ("08", "57P01", "57P02", "57P03")
# On a standby: a query cancelled because replay needed what it held.
CONFLICT_WITH_RECOVERY = "40001"

logger = logging.getLogger(__name__)
T = TypeVar("T")


def configured() -> bool:
    """Whether a replica is configured (``DATABASE_REPLICA_URL``)."""
    return REPLICA in connections.settings


# --- the scope ----------------------------------------------------------------------------------


class _Scope:
    __slots__ = ("user_id", "alias")

    def __init__(self, user_id: int | None):
        self.user_id = user_id
        self.alias: str | None = None  # decided at the scope's first read


_scope: ContextVar[_Scope | None] = ContextVar("civicgrid_replica_scope", default=None)


@contextmanager
def reads_from_replica(user=None):
    """Reads in the block may go to the replica; writes never do. ``user``: who reads (their
    own recent writes send the block to the primary). A replica failing half-way through
    raises; ``answer_from_replica`` answers from the primary instead."""
    token = _scope.set(_Scope(_user_id(user)))
    try:
        yield
    finally:
        _scope.reset(token)


def answer_from_replica(read: Callable[[], T], *, user=None) -> T:
    """``read()`` inside ``reads_from_replica``. Should the replica fail while it reads,
    ``read()`` runs again on the primary: so it must only read."""
    scope = _Scope(_user_id(user))
    token = _scope.set(scope)
    try:
        try:
            return read()
        except (OperationalError, InterfaceError) as exc:
            if scope.alias != REPLICA:
                raise
            _replica_failed(exc)
            scope.alias = DEFAULT_DB_ALIAS
            return read()
    finally:
        _scope.reset(token)


def replica_reads(view):
    """A view that only reads (a dashboard, a search): its reads may go to the replica, and a
    replica failing half-way leaves the page to the primary. Put it below the access
    decorators, so who may see the page is decided on the primary."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        return answer_from_replica(lambda: view(request, *args, **kwargs), user=getattr(request, "user", None))

    return wrapped


def read_alias() -> str:
    """Where a read here goes: ``"replica"`` or ``"default"``."""
    scope = _scope.get()
    if scope is None or not configured():
        return DEFAULT_DB_ALIAS
    if connections[DEFAULT_DB_ALIAS].in_atomic_block:
        return DEFAULT_DB_ALIAS  # a transaction on the primary reads its own writes
    if scope.alias is None:
        scope.alias = _choose(scope.user_id)
    if scope.alias == REPLICA:
        _follow_tenant(connections[REPLICA])
    return scope.alias


def read_connection():
    """The connection for a raw read here (``connection`` outside a scope)."""
    return connections[read_alias()]


def replica_gave_up(exc: BaseException, alias: str) -> bool:
    """Whether ``exc``, raised on the connection ``alias``, is the replica failing to answer
    (gone, or a query cancelled by a conflict with replay): a caller that would turn database
    errors into something else lets it through, so the scope answers from the primary."""
    return (alias == REPLICA and isinstance(exc, OperationalError | InterfaceError)
            and (_connection_lost(exc) or _sqlstate(exc) == CONFLICT_WITH_RECOVERY))


def _user_id(user) -> int | None:
    return user.pk if user is not None and getattr(user, "is_authenticated", False) else None


def _follow_tenant(replica) -> None:
    """The replica's connection takes the default connection's tenant: django-tenants'
    middleware and ``schema_context`` set only the default connection's."""
    primary = connections[DEFAULT_DB_ALIAS]
    if (replica.tenant is not primary.tenant or replica.schema_name != primary.schema_name
            or replica.include_public_schema != primary.include_public_schema):
        replica.set_tenant(primary.tenant, primary.include_public_schema)


def _choose(user_id: int | None) -> str:
    state = _health.current()
    if not state.usable or state.lag > settings.CIVICGRID_REPLICA_MAX_LAG:
        return DEFAULT_DB_ALIAS
    if user_id is not None:
        written = _written_position(user_id)
        if written is None or written > state.replay_lsn:
            return DEFAULT_DB_ALIAS
    return REPLICA


def _sqlstate(exc: BaseException) -> str | None:
    return getattr(exc.__cause__, "sqlstate", None)


def _connection_lost(exc: BaseException) -> bool:
    state = _sqlstate(exc)
    return state is None or state.startswith(LOST_CONNECTION_STATES)


def _replica_failed(exc: BaseException) -> None:
    """A read of a replica scope failed: it is read again from the primary. The replica is
    marked unreachable (checked again in a few seconds) only if its connection is gone: the
    failure may have been the primary's."""
    logger.warning("replicas: a read from the replica failed (%s); reading again from the primary",
                   str(exc).strip() or type(exc).__name__)
    replica = connections[REPLICA]
    if _connection_lost(exc) and not (replica.connection is not None and replica.is_usable()):
        _health.unreachable(str(exc))
        _close(replica)


def _close(connection) -> None:
    try:
        connection.close()
    except DatabaseError:
        pass  # it was gone already


# --- the replica's state, per process -------------------------------------------------------------


@dataclass(frozen=True)
class ReplicaState:
    usable: bool
    replay_lsn: int = 0  # bytes of WAL replayed (pg_lsn - '0/0')
    lag: float = math.inf  # seconds
    reason: str = ""  # why it is not usable
    reachable: bool = True
    checked_at: float = 0.0  # time.monotonic()


class _Health:
    def __init__(self):
        self.state: ReplicaState | None = None
        self.caught_up_at = 0.0  # wall clock: the last time the replica had replayed all the primary had
        self.lock = threading.Lock()

    def current(self, fresh: bool = False) -> ReplicaState:
        state = self.state
        if state is not None and not fresh:
            keep = CHECK_SECONDS if state.reachable else UNREACHABLE_RETRY_SECONDS
            if time.monotonic() - state.checked_at < keep:
                return state
        if not self.lock.acquire(blocking=False):  # another thread is checking: what we knew, or the primary
            return state or ReplicaState(usable=False, reason="being checked")
        try:
            fresh = self._check()
            self._tell(state, fresh)
            self.state = fresh
            return fresh
        finally:
            self.lock.release()

    def unreachable(self, reason: str) -> None:
        with self.lock:
            self.state = ReplicaState(usable=False, reachable=False, reason=reason, checked_at=time.monotonic())

    def forget(self) -> None:
        with self.lock:
            self.state, self.caught_up_at = None, 0.0

    def _check(self) -> ReplicaState:
        now = time.monotonic()
        started = time.time()  # before the primary's position is read: all committed by now is at or below it
        try:
            primary_lsn = _position(connections[DEFAULT_DB_ALIAS])
        except DatabaseError as exc:
            return ReplicaState(usable=False, reason=f"the primary's WAL position is unknown: {exc}", checked_at=now)
        replica = connections[REPLICA]
        try:
            with replica.cursor() as cursor:
                cursor.execute("SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn() - '0/0'::pg_lsn,"
                               " extract(epoch FROM pg_last_xact_replay_timestamp())")
                standby, replayed, replayed_commit = cursor.fetchone()
        except DatabaseError as exc:
            _close(replica)
            return ReplicaState(usable=False, reachable=False, reason=f"unreachable: {exc}".strip(), checked_at=now)
        if not standby or replayed is None:
            return ReplicaState(usable=False, reason="not a standby (promoted, or not a replica)", checked_at=now)
        replayed = int(replayed)
        if replayed >= primary_lsn:
            self.caught_up_at, lag = started, 0.0
        else:
            newest = max(self.caught_up_at, float(replayed_commit or 0))
            lag = time.time() - newest if newest else math.inf
        return ReplicaState(usable=True, replay_lsn=replayed, lag=lag, checked_at=now)

    @staticmethod
    def _tell(old: ReplicaState | None, new: ReplicaState) -> None:
        """Log changes only: the state is checked every second."""
        bound = settings.CIVICGRID_REPLICA_MAX_LAG

        def verdict(state: ReplicaState | None) -> str | None:
            if state is None:
                return None
            if not state.usable:
                return state.reason.split(":")[0]
            return "lagging" if state.lag > bound else "fine"

        before, after = verdict(old), verdict(new)
        if before == after:
            return
        if after == "lagging":
            logger.warning("replicas: reading from the primary: the replica lags %.1f s (bound %s s)", new.lag, bound)
        elif after != "fine":
            logger.warning("replicas: reading from the primary: the replica is %s", new.reason)
        elif before is not None:
            logger.info("replicas: reading from the replica again")


_health = _Health()


def state(*, fresh: bool = False) -> ReplicaState:
    """The replica's state as this process knows it: checked if due, or now with ``fresh``."""
    return _health.current(fresh)


def forget() -> None:
    """Drop all this process knows of the replica (tests: another replica)."""
    _health.forget()


def _position(connection) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn")
        return int(cursor.fetchone()[0])


# --- read-your-writes -----------------------------------------------------------------------------


def remember_write(user_id: int) -> None:
    """After a request of ``user_id`` wrote on the primary: until the replica has replayed as
    far as the primary has got now, that user's scopes read from the primary. Kept a little
    longer than the lag bound: by then the replica has replayed it, or lags past the bound and
    is left out for everyone."""
    try:
        position = _position(connections[DEFAULT_DB_ALIAS])
        with schema_context("public"):  # the cache's key function reads the schema
            cache.set(WRITTEN_KEY.format(user_id=user_id), position, _remember_seconds())
    except Exception:
        logger.warning("replicas: could not record a write of user %s; their next reads may miss it", user_id,
                       exc_info=True)


def _remember_seconds() -> int:
    return math.ceil(settings.CIVICGRID_REPLICA_MAX_LAG + 2 * CHECK_SECONDS) + 1


def _written_position(user_id: int) -> int | None:
    """The primary's WAL position after the user's last recent write (0: none), or None when
    the cache cannot say (the primary then, to be safe)."""
    try:
        with schema_context("public"):
            return int(cache.get(WRITTEN_KEY.format(user_id=user_id)) or 0)
    except Exception:
        logger.warning("replicas: the cache is unreachable; user %s reads from the primary", user_id)
        return None


WRITE_WORDS = ("INSERT", "UPDATE", "DELETE", "MERGE", "COPY", "CREATE", "ALTER", "DROP", "TRUNCATE")
_CTE_WRITE = re.compile(r"\b(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)


def writes(sql: str) -> bool:
    """Whether a statement writes (a data-modifying ``WITH`` included)."""
    head = sql.lstrip()[:10].upper()
    return head.startswith(WRITE_WORDS) or (head.startswith("WITH") and bool(_CTE_WRITE.search(sql)))


class _WriteWatch:
    def __init__(self):
        self.wrote = False

    def __call__(self, execute, sql, params, many, context):
        if not self.wrote and writes(sql):
            self.wrote = True
        return execute(sql, params, many, context)


class ReadYourWritesMiddleware:
    """Watches the request's statements on the primary; when a signed-in user's request wrote,
    records how far the primary's WAL had got once the view was done (its transactions
    committed). Placed inside the session middleware: saving a session is not a write the
    user reads back on a dashboard, and it would otherwise count on every request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not configured():
            return self.get_response(request)
        watch = _WriteWatch()
        with connections[DEFAULT_DB_ALIAS].execute_wrapper(watch):
            response = self.get_response(request)
        user = getattr(request, "user", None)
        if watch.wrote and user is not None and user.is_authenticated:
            remember_write(user.pk)
        return response


# --- the router -----------------------------------------------------------------------------------


class ReplicaRouter:
    """After django-tenants' ``TenantSyncRouter``: reads go where ``read_alias()`` says (the
    primary outside a replica scope, even for an object the replica loaded), writes always
    to the primary, and the replica is never migrated."""

    def db_for_read(self, model, **hints):
        return read_alias()

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        same_data = {DEFAULT_DB_ALIAS, REPLICA}
        return True if {obj1._state.db, obj2._state.db} <= same_data else None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return False if db == REPLICA else None
