"""The replica router with no replica configured (the suite's own settings): every read and
write goes to ``default``; the settings add a replica only when ``DATABASE_REPLICA_URL`` is set;
what the read-your-writes middleware counts as a write. The real replica is in test_replicas.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import psycopg
import pytest
from django.db import OperationalError, connections, router
from django.test import Client
from django.test.utils import CaptureQueriesContext

from civicgrid.platform.cases.models import Case
from civicgrid.tenants import replicas
from civicgrid.tenants.models import Tenant
from civicgrid.tenants.replicas import REPLICA, read_alias, reads_from_replica


def test_without_a_replica_everything_reads_and_writes_default(committed):
    assert not replicas.configured() and list(connections.settings) == ["default"]
    with reads_from_replica(committed.user("shangcheng_operator")):
        assert read_alias() == "default" and Tenant.objects.all().db == "default"
        assert router.db_for_read(Case) == router.db_for_write(Case) == "default"
        assert replicas.read_connection() is connections["default"]
    operator = Client(HTTP_HOST="shangcheng.localhost")
    operator.force_login(committed.user("shangcheng_operator"))
    with CaptureQueriesContext(connections["default"]) as on_default:
        assert operator.get("/dashboard/").status_code == 200
        assert operator.get("/api/v1/cases/", {"q": "漏水"}).status_code == 200
    statements = [query["sql"] for query in on_default.captured_queries]
    assert any("GROUPING(" in sql for sql in statements) and any("search_casedocument" in sql for sql in statements)


PROBE = ("import django, json; django.setup(); from django.conf import settings as s; "
         "print(json.dumps({'databases': s.DATABASES, 'routers': s.DATABASE_ROUTERS, "
         "'lag': s.CIVICGRID_REPLICA_MAX_LAG, 'middleware': s.MIDDLEWARE}, default=str))")


def settings_with(**env) -> dict:
    clean = {k: v for k, v in os.environ.items() if k not in ("DATABASE_REPLICA_URL", "CIVICGRID_REPLICA_MAX_LAG")}
    clean.update(DATABASE_URL="postgres://writer@primary.internal/civicgrid", REDIS_URL="redis://r",
                 DJANGO_SETTINGS_MODULE="civicgrid.config.settings.dev", **env)
    done = subprocess.run([sys.executable, "-c", PROBE], env=clean, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_settings_add_the_replica_only_when_its_url_is_set():
    single = settings_with()
    assert list(single["databases"]) == ["default"] and single["lag"] == 30
    both = settings_with(DATABASE_REPLICA_URL="postgres://reader@replica.internal:5433/civicgrid",
                         CIVICGRID_REPLICA_MAX_LAG="12")
    default, replica = both["databases"]["default"], both["databases"]["replica"]
    assert replica["ENGINE"] == default["ENGINE"] == "django_tenants.postgresql_backend"
    assert (replica["HOST"], replica["PORT"], replica["USER"]) == ("replica.internal", 5433, "reader")
    assert replica["CONN_MAX_AGE"] == default["CONN_MAX_AGE"] and replica["CONN_HEALTH_CHECKS"] is True
    assert replica["OPTIONS"]["connect_timeout"] == 2 and not replica.get("TEST", {}).get("MIRROR")  # a real server
    assert both["routers"] == ["django_tenants.routers.TenantSyncRouter", "civicgrid.tenants.replicas.ReplicaRouter"]
    assert both["lag"] == 12
    # Inside the session middleware: a session's save is not a write the user reads back.
    middleware = both["middleware"]
    assert (middleware.index("django.contrib.sessions.middleware.SessionMiddleware")
            < middleware.index("civicgrid.tenants.replicas.ReadYourWritesMiddleware"))


@pytest.mark.parametrize("sql, writes", [
    ("INSERT INTO cases_case (title) VALUES (%s)", True),
    ("  update cases_case SET title = %s", True),
    ("DELETE FROM x", True),
    ("COPY search_load FROM STDIN", True),
    ("WITH moved AS (DELETE FROM a RETURNING *) INSERT INTO b SELECT * FROM moved", True),
    ("SELECT 1", False),
    ("WITH period AS (SELECT * FROM cases_case) SELECT count(*) FROM period", False),
    ("SET search_path = 'shangcheng','public'", False),
])
def test_what_counts_as_a_write(sql, writes):
    assert replicas.writes(sql) is writes


def _as_django_error(cause: Exception) -> OperationalError:
    """What Django raises for a driver's error: its own class, the driver's error as the cause."""
    error = OperationalError(str(cause))
    error.__cause__ = cause
    return error


@pytest.mark.parametrize("cause, alias, back_to_primary", [
    (psycopg.OperationalError("connection refused"), REPLICA, True),  # no answer at all
    (psycopg.errors.AdminShutdown(), REPLICA, True),  # the replica is shutting down
    (psycopg.errors.SerializationFailure(), REPLICA, True),  # cancelled by a conflict with replay
    (psycopg.errors.QueryCanceled(), REPLICA, False),  # a search past its timeout: search is degraded
    (psycopg.errors.AdminShutdown(), "default", False),  # the primary's own failure is no replica's
])
def test_what_a_search_lets_through_to_be_read_again_from_the_primary(cause, alias, back_to_primary):
    assert replicas.replica_gave_up(_as_django_error(cause), alias) is back_to_primary
