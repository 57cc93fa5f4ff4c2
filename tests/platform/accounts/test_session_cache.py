"""Sessions read from Redis, kept in PostgreSQL (civicgrid/platform/accounts/sessions.py):
no session statement on a signed-in request; with Redis down, signing in, working and
signing out go on from the database; and a session signed out while Redis was down does
not come back from Redis's copy when Redis does."""

from __future__ import annotations

import json
import time

import pytest
from django.conf import settings
from django.core.cache import caches
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from civicgrid.platform.accounts import sessions
from tests.brokers import broker
from tests.conftest import free_port
from tests.platform.accounts.test_sign_in import SHANGCHENG, password_step
from tests.platform.cases.test_workflow import IN_G01
from tests.two_factor import next_code

ME = "/api/v1/me/"


@pytest.fixture(autouse=True)
def _redis_answering_again():
    """Each test starts with this process asking Redis (an earlier test's outage paused it)."""
    sessions._Health.retry_at = 0.0


def signed_in(world, username: str = "shangcheng_gridworker") -> Client:
    client = Client(HTTP_HOST=SHANGCHENG)
    client.force_login(world.user(username))
    # The first request saves the session (its last-seen time), which drops the copy; the
    # second copies the row into Redis again.
    assert client.get(ME).status_code == 200
    assert client.get(ME).status_code == 200
    return client


def session_statements(client: Client) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(ME).status_code == 200
    return [q["sql"] for q in captured.captured_queries if "django_session" in q["sql"]]


def copy_in_redis(client: Client):
    return caches["sessions"].get(client.cookies[settings.SESSION_COOKIE_NAME].value)


def with_cookie(session_key: str) -> Client:
    client = Client(HTTP_HOST=SHANGCHENG)
    client.cookies[settings.SESSION_COOKIE_NAME] = session_key
    return client


def redis_down():
    return broker(f"redis://127.0.0.1:{free_port()}/0")


def after_the_pause():
    time.sleep(sessions.PAUSE_AFTER_ERROR + 0.1)


def test_a_signed_in_request_reads_its_session_from_redis(world):
    client = signed_in(world)
    assert session_statements(client) == []
    assert copy_in_redis(client) is not None


def test_with_redis_down_one_signs_in_works_and_signs_out_and_the_session_stays_out_when_redis_is_back(world):
    client = signed_in(world)
    assert session_statements(client) == []
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    left_behind = with_cookie(key)  # the same cookie, kept by someone else

    with redis_down():
        started = time.monotonic()
        assert client.get(ME).status_code == 200  # read from the database
        body = {"category": "DSP-NEIGHBOUR", "title": "Redis 停了也能上报", **IN_G01}
        assert client.post("/api/v1/cases/", json.dumps(body), content_type="application/json").status_code == 201
        client.logout()
        assert client.get(ME).status_code == 403
        assert left_behind.get(ME).status_code == 403

        # Signing in through the pages: password, then the authenticator's code.
        admin, answer = password_step("shangcheng_admin", next_url="/registry/")
        assert answer["Location"] == "/registry/"
        done = admin.post("/accounts/two-factor/", {"code": next_code("shangcheng_admin"), "next": "/registry/"})
        assert done["Location"] == "/registry/"
        assert admin.get("/registry/").status_code == 200
        assert time.monotonic() - started < 10, "Redis down must fail fast, not hang each request"

    assert caches["sessions"].get(key) is not None, "the copy the sign-out could not drop is still there"
    after_the_pause()
    assert with_cookie(key).get(ME).status_code == 403, "a signed-out session came back from Redis"
    assert admin.get("/registry/").status_code == 200
    assert session_statements(admin) == [], "once Redis is back, sessions are read from it again"


def test_a_read_racing_a_sign_out_cannot_put_the_session_back(world):
    client = signed_in(world)
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    late = sessions.SessionStore(key)
    epoch, _, _ = sessions._read(key)
    data = late.load()  # a request that read the row just before the sign-out ...
    client.logout()
    sessions._keep(key, data, 60, epoch)  # ... and copies it just after
    assert sessions.SessionStore(key).load() == {}
    assert with_cookie(key).get(ME).status_code == 403


def test_a_process_that_starts_retires_the_copies_it_cannot_vouch_for(world):
    client = signed_in(world)
    assert copy_in_redis(client) is not None
    sessions._Health.suspect = True  # as a new process starts
    with CaptureQueriesContext(connection) as captured:
        assert client.get(ME).status_code == 200
    assert any("django_session" in q["sql"] for q in captured.captured_queries), "read again from the database"
    assert session_statements(client) == []
