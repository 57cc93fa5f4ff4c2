"""What one report costs the database, counted: a regression here is a slower hot path
for every grid worker in the province (bench/cases.py measures the time).

A grid worker's report over the API, after a first one has warmed what a live process
keeps (the host's tenant, the grid index, the session's copy in Redis): the user, the second factor's
device (the test world's grid worker has one) and the staff profile; the category; the
day's number (its own statement, before the transaction); the case, its timeline entry,
its audit row (the chain's lock, its tail, the row), who to notify and the outbox event:
12. django-tenants' ``SET search_path`` before each is counted apart."""

from __future__ import annotations

import json

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.platform.cases.test_workflow import IN_G01

MOST_STATEMENTS = 12  # the list above


def statements_of_a_report(world, title: str) -> list[str]:
    client = Client(HTTP_HOST="shangcheng.localhost")
    client.force_login(world.user("shangcheng_gridworker"))
    body = {"category": "DSP-NEIGHBOUR", "title": title, **IN_G01}
    assert client.post("/api/v1/cases/", json.dumps(body), content_type="application/json").status_code == 201
    # The first request saved the session (its last-seen time), which drops Redis's copy: copy it again.
    assert client.get("/api/v1/me/").status_code == 200
    with CaptureQueriesContext(connection) as captured:
        response = client.post("/api/v1/cases/", json.dumps({**body, "title": f"{title} 2"}),
                               content_type="application/json")
    assert response.status_code == 201, response.content
    return [q["sql"] for q in captured.captured_queries]


def test_a_report_sends_few_statements(world):
    sent = statements_of_a_report(world, "楼道堆物 语句数")
    work = [sql for sql in sent if not sql.startswith("SET search_path")]
    assert len(work) <= MOST_STATEMENTS, "\n".join(sql[:120] for sql in work)
    assert not any("tenants_domain" in sql for sql in work)  # the host's tenant is kept by the process
    assert not any('FROM "org_orgunit"' in sql for sql in work)  # the grid comes from the grid index
    assert not any("django_session" in sql for sql in work)  # the session comes from Redis
