"""Scratch databases for the benchmarks: each benchmark makes its own database on
the server named by DATABASE_URL, runs inside it, and drops it at the end.

BENCH_DB overrides the database name; BENCH_KEEP=1 leaves it for a look with psql;
BENCH_REUSE=1 runs against a database a BENCH_KEEP=1 run left (benchmarks that know
how skip their setup) and leaves it too.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit


def scratch_urls(server_url: str, db_name: str) -> tuple[str, str]:
    """(URL of the maintenance database to issue CREATE/DROP DATABASE from, URL of the
    scratch database). The database named in DATABASE_URL may not exist, so the
    maintenance database is always ``postgres``."""
    parts = urlsplit(server_url)
    admin = urlunsplit(parts._replace(path="/postgres"))
    scratch = urlunsplit(parts._replace(path=f"/{db_name}"))
    return admin, scratch


def recreate_database(admin_url: str, db_name: str, *, create: bool) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db_name)))
        if create:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db_name)))


def reusing() -> bool:
    return os.environ.get("BENCH_REUSE") == "1"


def version_of(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "?"


def run_in_scratch_database(default_name: str, run: Callable[[], None]) -> int:
    """Create the scratch database, set Django up on it, run, drop it. Returns an exit code."""
    server_url = os.environ.get("DATABASE_URL")
    if not server_url or not os.environ.get("REDIS_URL"):
        print("set DATABASE_URL (any database on the server to use) and REDIS_URL", file=sys.stderr)
        return 2
    db_name = os.environ.get("BENCH_DB", default_name)
    admin_url, bench_url = scratch_urls(server_url, db_name)
    if not reusing():
        recreate_database(admin_url, db_name, create=True)
    os.environ["DATABASE_URL"] = bench_url  # before django.setup(): settings read it at import
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicgrid.config.settings.dev")

    import django

    django.setup()
    from django.conf import settings
    from django.db import connections

    # Query logging under DEBUG would charge every measured query for its log entry.
    settings.DEBUG = False
    try:
        run()
    finally:
        connections.close_all()
        if os.environ.get("BENCH_KEEP") != "1" and not reusing():
            recreate_database(admin_url, db_name, create=False)
            print(f"dropped scratch database {db_name}", flush=True)
    return 0


def python_speed() -> str:
    """A fixed pure-Python loop, timed: the same machine runs at different speeds on
    different days, and this shows how fast it was during a run (lower is faster)."""
    import time

    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        sum(i * i for i in range(10**7))
        best = min(best, time.perf_counter() - started)
    return f"pyspeed={best:.2f}s"


def machine_line(*versions: str) -> str:
    """The ``machine`` line every benchmark ends with: the machine, its load, the
    versions that matter (``versions``: "name=value" items) and its speed that day."""
    import django
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgresql = cursor.fetchone()[0]
    cpus = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cpus
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return " ".join([f"machine cpus={cpus} usable={usable} loadavg={load}", f"python={sys.version.split()[0]}",
                     f"postgresql={postgresql}", f"django={django.get_version()}", *versions, python_speed()])


def onboarded_county():
    """What most benchmarks start from: everything migrated, the province, 杭州市 and its
    county 上城区 onboarded by the real actions (clone). Prints how long it took and
    returns 上城区's tenant."""
    import time

    from django.core.management import call_command

    from civicgrid.province.onboarding import ensure_province, onboard_tenant

    started = time.perf_counter()
    call_command("migrate_all", verbosity=0, no_progress=True)
    ensure_province(name="浙江省", division_code="330000", domain="localhost")
    onboard_tenant(name="杭州市", division_code="330100", level="city", domain="hangzhou.localhost",
                   admin_password="x" * 12, acting_user=None)
    county = onboard_tenant(name="上城区", division_code="330102", level="county", parent_code="330100",
                            domain="shangcheng.localhost", admin_password="x" * 12, acting_user=None).tenant
    print(f"setup   migrate + province + city + county took {time.perf_counter() - started:.1f}s", flush=True)
    return county
