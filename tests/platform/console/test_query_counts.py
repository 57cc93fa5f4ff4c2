"""No console page sends more than 30 queries to the database. django-tenants' ``SET search_path``
before each query and the savepoints of nested transactions are counted apart (their times
are in bench/console.py; removing the repeated SET safely is the hardening issue's work)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from tests.platform.cases.test_case_pages import IN_G01, report
from tests.platform.console.test_queue import signed_in

LIMIT = 30


@pytest.fixture
def sc(world):
    with tenant_context(world.shangcheng):
        yield world


def test_every_console_page_stays_within_thirty_queries(sc):
    case = report(title="查询次数", **IN_G01)
    operator = signed_in(sc, "shangcheng_operator")
    for path in ("/", "/queue/", f"/cases/{case.pk}/", "/cases/", "/map/", "/map/grids.geojson",
                 "/map/cases.geojson", "/dashboard/", "/dashboard/?days=90"):
        operator.get(path)  # warm: the caches a live process holds
        with CaptureQueriesContext(connection) as captured:
            assert operator.get(path).status_code == 200, path
        queries = [q["sql"] for q in captured.captured_queries
                   if not q["sql"].startswith(("SET search_path", "SAVEPOINT", "RELEASE SAVEPOINT"))]
        assert len(queries) <= LIMIT, (path, len(queries))
