"""Reads from a streaming replica (civicgrid/tenants/replicas.py), against a real one.

The module builds a PostgreSQL primary of its own (initdb, run as the machine's ``postgres``
user when the tests run as root: initdb refuses root), restores a copy of the test database
into it, clones it with ``pg_basebackup -R`` into a streaming replica, and points Django's
``default`` at the primary and ``replica`` at the replica for the module. No mirror: a
``TEST={"MIRROR": "default"}`` replica is the primary under another name, and would pass every
test below without a replica in sight. Which server answered is proven by data the other has
not got (replay paused with ``pg_wal_replay_pause()``) and by the statements each connection ran.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.core.cache import cache
from django.db import connection, connections, router
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_tenants.routers import TenantSyncRouter
from django_tenants.utils import schema_context, tenant_context

from civicgrid.platform.cases.models import Case, Category
from civicgrid.tenants import hosts, replicas
from civicgrid.tenants.replicas import REPLICA, read_alias, reads_from_replica
from tests.conftest import database_url, free_port
from tests.pg_cluster import Server, run, server_binaries, server_owner

SHANGCHENG, YUHANG, HANGZHOU, PROVINCE = "shangcheng.localhost", "yuhang.localhost", "hangzhou.localhost", "localhost"
IN_G01 = {"latitude": 30.245, "longitude": 120.175}
COPY = "civicgrid"
GROUPED = "GROUPING("  # the dashboard's figures: one grouped statement (cases/statistics.py)
SEARCHED = "search_casedocument"


# --- a primary and its streaming replica, of the module's own ---------------------------------------


class Pair:
    def __init__(self, primary: Server, replica: Server):
        self.primary, self.replica = primary, replica

    def replica_sql(self, sql: str):
        """One statement on the replica, outside Django (superuser: replay control)."""
        with connections[REPLICA].cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchone()[0]

    def caught_up(self, timeout: float = 20) -> None:
        target = _position("default")
        deadline = time.monotonic() + timeout
        while int(self.replica_sql("SELECT pg_last_wal_replay_lsn() - '0/0'::pg_lsn")) < target:
            assert time.monotonic() < deadline, "the replica did not catch up"
            time.sleep(0.05)

    @contextmanager
    def replay_paused(self):
        self.caught_up()
        replicas.state(fresh=True)  # seen caught up just now: the pause starts with no lag
        self.replica_sql("SELECT pg_wal_replay_pause()")
        deadline = time.monotonic() + 10
        while self.replica_sql("SELECT pg_get_wal_replay_pause_state()") != "paused":
            assert time.monotonic() < deadline
            time.sleep(0.02)
        try:
            yield
        finally:
            self.replica_sql("SELECT pg_wal_replay_resume()")
            self.caught_up()
            replicas.state(fresh=True)


def _position(alias: str) -> int:
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn")
        return int(cursor.fetchone()[0])


@contextmanager
def django_on(pair: Pair):
    """``default`` on the primary's copy of the test database, ``replica`` on the replica."""
    default = connections.settings["default"]
    saved = dict(default)
    connections.close_all()
    default.update(NAME=COPY, USER="postgres", PASSWORD="", HOST="127.0.0.1", PORT=str(pair.primary.port))
    connections.settings[REPLICA] = {**default, "PORT": str(pair.replica.port),
                                     "OPTIONS": {**default.get("OPTIONS", {}), "connect_timeout": 2}}
    replicas.forget()
    hosts.forget()
    try:
        yield
    finally:
        connections.close_all()
        default.clear()
        default.update(saved)
        del connections.settings[REPLICA]
        try:
            del connections[REPLICA]
        except AttributeError:
            pass
        replicas.forget()
        hosts.forget()


@pytest.fixture(scope="module")
def pair(django_db_setup, django_db_blocker):
    as_owner = server_owner()
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute("SHOW server_version_num")
        major = int(cursor.fetchone()[0]) // 10000
    bindir = server_binaries(major)
    if as_owner is None or bindir is None:
        pytest.skip("needs PostgreSQL's server programs (initdb, pg_basebackup) and, as root, a postgres user")
    home = Path(tempfile.mkdtemp(prefix="civicgrid-replica-"))  # not pytest's: the postgres user may not enter it
    if as_owner:
        shutil.chown(home, "postgres")
    primary, replica = Server("primary", home, bindir, as_owner), Server("replica", home, bindir, as_owner)
    try:
        run([*as_owner, bindir / "initdb", "-D", primary.data, "-A", "trust", "-U", "postgres", "--no-sync",
             "-E", "UTF8", "--locale=C"])
        primary.start()
        dump = home / "test.dump"
        run([bindir / "pg_dump", "-Fc", "-f", dump, database_url()])
        run([bindir / "psql", f"{primary.url}/postgres", "-qc", f"CREATE DATABASE {COPY}"])
        run([bindir / "pg_restore", "--no-owner", "-d", f"{primary.url}/{COPY}", dump])
        run([*as_owner, bindir / "pg_basebackup", "-D", replica.data, "-R", "-X", "stream", "-c", "fast",
             "-h", "127.0.0.1", "-p", primary.port, "-U", "postgres"])
        replica.start()
        built = Pair(primary, replica)
        with django_db_blocker.unblock(), django_on(built):
            built.caught_up()
            yield built
    finally:
        replica.stop("immediate")
        primary.stop("immediate")
        shutil.rmtree(home, ignore_errors=True)


# --- helpers ------------------------------------------------------------------------------------------


def signed_in(world, username: str, host: str = SHANGCHENG) -> Client:
    client = Client(HTTP_HOST=host)
    client.force_login(world.user(username))
    return client


@contextmanager
def statements():
    """What the primary and the replica ran meanwhile: {"default": [...], "replica": [...]}."""
    seen: dict[str, list[str]] = {}
    with CaptureQueriesContext(connections["default"]) as on_primary, \
            CaptureQueriesContext(connections[REPLICA]) as on_replica:
        yield seen
    seen.update(default=[q["sql"] for q in on_primary.captured_queries],
                replica=[q["sql"] for q in on_replica.captured_queries])


def ran(sqls: list[str], text: str) -> bool:
    return any(text in sql for sql in sqls)


def dashboard_total(http: Client) -> int:
    """Cases reported in the dashboard's period, as the page's chart data says."""
    page = http.get("/dashboard/?days=7")
    assert page.status_code == 200
    data = json.loads(re.search(r'<script id="dashboard-data" type="application/json">(.*?)</script>',
                                page.content.decode(), re.S).group(1))
    return sum(row["value"] for row in data["volume"])


def found(http: Client, text: str) -> list[str]:
    answer = http.get("/api/v1/cases/", {"q": text})
    assert answer.status_code == 200, answer.content
    return [row["number"] for row in answer.json()["results"]]


def report(http: Client, title: str) -> str:
    answer = http.post("/api/v1/cases/", {"category": "DSP-NEIGHBOUR", "title": title, "source": "hotline_12345",
                                          **IN_G01}, content_type="application/json")
    assert answer.status_code == 201, answer.content
    return answer.json()["number"]


def written_position(user) -> int | None:
    with schema_context("public"):
        return cache.get(replicas.WRITTEN_KEY.format(user_id=user.pk))


def in_recovery(alias: str) -> bool:
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery()")
        return cursor.fetchone()[0]


# --- the tests -----------------------------------------------------------------------------------------


def test_reads_in_the_scope_go_to_the_replica_writes_to_the_primary(pair, committed):
    with tenant_context(committed.shangcheng):
        category = Category.objects.filter(parent__isnull=False).first()
        outside = Category.objects.all()
        assert outside.db == "default" and not in_recovery(outside.db)
        with pair.replay_paused():
            Category.objects.filter(pk=category.pk).update(name="改在主库")  # the replica has not replayed it
            with reads_from_replica():
                inside = Category.objects.all()
                assert inside.db == REPLICA and in_recovery(inside.db)
                assert inside.get(pk=category.pk).name == category.name  # the replica's row
                assert read_alias() == REPLICA
                row = inside.get(pk=category.pk)
                row.name = "范围内写"
                row.save()  # a write inside the scope goes to the primary
                assert router.db_for_write(Category) == "default"
                assert inside.get(pk=category.pk).name == category.name  # still the replica, still paused
            assert Category.objects.get(pk=category.pk).name == "范围内写"  # outside: the primary
        with reads_from_replica():
            assert Category.objects.get(pk=category.pk).name == "范围内写"  # replayed now
            assert read_alias() == REPLICA


def test_dashboards_supervision_and_search_read_the_replica_other_pages_the_primary(pair, committed):
    operator = signed_in(committed, "shangcheng_operator")
    with statements() as dashboard:
        assert operator.get("/dashboard/").status_code == 200
    assert ran(dashboard[REPLICA], GROUPED) and not ran(dashboard["default"], GROUPED)

    with statements() as search_api:
        assert found(operator, "漏水 争吵") is not None
    assert ran(search_api[REPLICA], SEARCHED) and not ran(search_api["default"], SEARCHED)
    with statements() as search_page:
        assert operator.get("/cases/", {"q": "漏水"}).status_code == 200
    assert ran(search_page[REPLICA], SEARCHED) and not ran(search_page["default"], SEARCHED)

    supervisor = signed_in(committed, "prov_supervisor", PROVINCE)
    with statements() as province:
        assert supervisor.get("/province/supervision/").status_code == 200
    assert ran(province[REPLICA], "province_dailytotal") and not ran(province["default"], "province_dailytotal")
    city_admin = signed_in(committed, f"{committed.city.schema_name}_admin", HANGZHOU)
    with statements() as city:
        assert city_admin.get("/supervision/").status_code == 200
    assert ran(city[REPLICA], "province_dailytotal")

    # Outside the scope: the case list, a case, the queue read the primary only.
    for path in ("/cases/", "/queue/", "/"):
        with statements() as other:
            assert operator.get(path).status_code == 200
        assert other[REPLICA] == [] and other["default"], path


def test_a_users_own_write_is_read_from_the_primary_while_others_read_the_replica(pair, committed):
    operator, admin = signed_in(committed, "shangcheng_operator"), signed_in(committed, "shangcheng_admin")
    before = dashboard_total(admin)
    with pair.replay_paused():
        number = report(operator, "回放暂停时上报")  # the operator's request wrote: its WAL position is kept
        replicas.state(fresh=True)
        with statements() as own:
            assert dashboard_total(operator) == before + 1
            assert found(operator, number) == [number]
        assert not ran(own[REPLICA], GROUPED) and ran(own["default"], GROUPED)
        with statements() as others:
            assert dashboard_total(admin) == before  # the replica has not replayed the report
            assert found(admin, number) == []
        assert ran(others[REPLICA], GROUPED) and not ran(others["default"], GROUPED)
        # Only the request that wrote left a position behind; the admin's pages wrote nothing.
        assert written_position(committed.user("shangcheng_operator")) > 0
        assert written_position(committed.user("shangcheng_admin")) is None
    # Replayed: the operator reads the replica again, and everyone sees the case.
    with statements() as later:
        assert dashboard_total(operator) == dashboard_total(admin) == before + 1
    assert ran(later[REPLICA], GROUPED) and not ran(later["default"], GROUPED)


def test_with_the_cache_unreachable_a_signed_in_user_reads_from_the_primary(pair, committed, settings, caplog):
    """Their last write's position cannot be read: the primary, to be safe; the page still answers."""
    admin = signed_in(committed, "shangcheng_admin")
    nowhere = f"redis://127.0.0.1:{free_port()}/0"
    settings.CACHES = {alias: {**config, "LOCATION": nowhere} for alias, config in settings.CACHES.items()}
    replicas.state(fresh=True)
    with statements() as seen:
        dashboard_total(admin)
    assert not ran(seen[REPLICA], GROUPED) and ran(seen["default"], GROUPED)
    assert "the cache is unreachable; user" in caplog.text
    with reads_from_replica():  # nobody signed in: no write of theirs to wait for
        assert read_alias() == REPLICA


def test_a_replica_lagging_past_the_bound_is_left_out_for_everyone(pair, committed, settings, caplog):
    admin = signed_in(committed, "shangcheng_admin")
    with pair.replay_paused():
        with tenant_context(committed.shangcheng):
            Category.objects.filter(code="DSP-NEIGHBOUR").update(name_en="written while replay is paused")
        settings.CIVICGRID_REPLICA_MAX_LAG = 0.3
        time.sleep(0.5)
        lagging = replicas.state(fresh=True)
        assert lagging.usable and lagging.lag > 0.3
        assert "lags" in caplog.text
        with statements() as left_out:
            dashboard_total(admin)
        assert not ran(left_out[REPLICA], GROUPED) and ran(left_out["default"], GROUPED)
        with reads_from_replica():  # nobody signed in: the same
            assert read_alias() == "default"
        settings.CIVICGRID_REPLICA_MAX_LAG = 30  # the same replica, within a wider bound
        replicas.state(fresh=True)
        with statements() as within:
            dashboard_total(admin)
        assert ran(within[REPLICA], GROUPED)


def test_the_lag_of_an_idle_primary_is_nothing(pair, committed):
    """Nothing written for a while: the last replayed commit grows old, yet nothing is missing."""
    pair.caught_up()
    time.sleep(1.2)
    since_last_commit = float(pair.replica_sql("SELECT extract(epoch FROM now() - pg_last_xact_replay_timestamp())"))
    # The primary's own background records (a standby snapshot) may be a moment from replayed: look again.
    lags = [replicas.state(fresh=True).lag for _ in range(3) if not time.sleep(0.1)]
    assert since_last_commit > 1 and 0 in lags


def test_with_the_replica_stopped_pages_answer_from_the_primary(pair, committed, monkeypatch, caplog):
    admin, supervisor = signed_in(committed, "shangcheng_admin"), signed_in(committed, "prov_supervisor", PROVINCE)
    with statements() as before:
        expected = dashboard_total(admin)
    assert ran(before[REPLICA], GROUPED)
    monkeypatch.setattr(replicas, "CHECK_SECONDS", 600)  # the process still believes the replica is there
    pair.replica.stop()
    try:
        # Mid-read: the first statement on the replica fails; the page is read again from the primary.
        with CaptureQueriesContext(connections["default"]) as on_primary:
            started = time.monotonic()
            assert dashboard_total(admin) == expected
            assert time.monotonic() - started < 5
        assert ran([q["sql"] for q in on_primary.captured_queries], GROUPED)
        assert "a read from the replica failed" in caplog.text
        assert not replicas.state().reachable
        # Known unreachable: straight to the primary, for pages, search and the province alike.
        assert dashboard_total(admin) == expected
        assert found(admin, "漏水") is not None
        assert supervisor.get("/province/supervision/").status_code == 200
        caplog.clear()
        assert not replicas.state(fresh=True).usable and "unreachable" in caplog.text
    finally:
        pair.replica.start()
        connections[REPLICA].close()
        pair.caught_up()
        replicas.state(fresh=True)
    with statements() as back:
        dashboard_total(admin)
    assert ran(back[REPLICA], GROUPED)


def test_the_replica_reads_the_requests_tenant_and_other_tenants_are_still_not_found(pair, committed):
    shangcheng_op, yuhang_op = signed_in(committed, "shangcheng_operator"), signed_in(committed, "yuhang_operator",
                                                                                     YUHANG)
    report(shangcheng_op, "只在上城")
    pair.caught_up()
    replicas.state(fresh=True)  # the operator's report is replayed: their reads go to the replica again
    with tenant_context(committed.shangcheng):
        in_shangcheng = Case.objects.count()
    with tenant_context(committed.yuhang):
        in_yuhang = Case.objects.count()
    assert in_shangcheng != in_yuhang  # so a figure read in the wrong schema shows
    for _round in range(2):  # one thread, one replica connection, tenants in turn
        with statements() as yuhang:
            assert dashboard_total(yuhang_op) <= in_yuhang
            found(yuhang_op, "漏水")
        with statements() as shangcheng:
            assert dashboard_total(shangcheng_op) > 0
        assert ran(yuhang[REPLICA], "yuhang") and not ran(yuhang[REPLICA], "shangcheng")
        assert ran(shangcheng[REPLICA], "shangcheng") and not ran(shangcheng[REPLICA], "yuhang")
    with tenant_context(committed.yuhang), reads_from_replica():
        assert Case.objects.count() == in_yuhang and Case.objects.all().db == REPLICA
    with tenant_context(committed.shangcheng), reads_from_replica():
        assert Case.objects.count() == in_shangcheng

    # Another tenant's staff, and the wrong roles, are not found, with the replica serving.
    assert yuhang_op.get("/dashboard/", HTTP_HOST=SHANGCHENG).status_code == 404
    assert yuhang_op.get("/api/v1/cases/", {"q": "漏水"}, HTTP_HOST=SHANGCHENG).status_code == 404
    assert yuhang_op.get("/cases/", {"q": "漏水"}, HTTP_HOST=SHANGCHENG).status_code == 404
    assert signed_in(committed, "shangcheng_gridworker").get("/dashboard/").status_code == 404
    assert shangcheng_op.get("/supervision/").status_code == 404  # a county's host has no city page
    assert signed_in(committed, "shangcheng_admin", HANGZHOU).get("/supervision/").status_code == 404
    assert signed_in(committed, "shangcheng_admin", PROVINCE).get("/province/supervision/").status_code == 404


def test_the_replica_is_never_migrated_and_migrations_stay_with_tenant_sync(pair):
    sync = TenantSyncRouter()
    for label in ("tenants", "accounts", "cases", "search", "contenttypes"):
        assert router.allow_migrate(REPLICA, label) is False
        assert router.allow_migrate("default", label) is (sync.allow_migrate("default", label) is not False)
