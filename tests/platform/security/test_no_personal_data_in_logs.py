"""No personal data in logs, URLs or error pages.

A live server (daphne, its access log on) runs with every logger at DEBUG, its output to a
file, and this process logs at DEBUG to a file too, once as plain text (development) and once
as JSON lines (production's CIVICGRID_LOG_FORMAT=json, civicgrid.platform.monitoring.logs). A representative flow goes through it:
a report with a phone and an ID number (the API and Open311), a person registered and found
again by ID number and by phone, sign-in failures with a phone typed as the user name, a
verification by list, bad input echoing the values. Then both logs are searched for each
phone, ID number and name, raw, URL-encoded and JSON-escaped: any hit fails the test.
"""

from __future__ import annotations

import functools
import json
import logging
import random
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
import requests
from django.utils import timezone
from django_tenants.utils import tenant_context

from civicgrid.platform.registry.identity import id_check_char
from tests.conftest import child_env, free_port, wait_for_port
from tests.platform.cases.test_workflow import IN_G01
from tests.world import PASSWORD

HOST = "shangcheng.localhost"


def id_number() -> str:
    first17 = f"330102{random.randrange(1960, 2000)}0{random.randrange(1, 10)}1{random.randrange(1, 10)}" \
              f"{random.randrange(100, 999)}"
    return first17 + id_check_char(first17)


def phone() -> str:
    return f"13{random.randrange(10 ** 9):09d}"


def spellings(value: str) -> set[str]:
    """The ways a value turns up in a log line: as is, URL-encoded, JSON-escaped."""
    forms = {value, quote(value), quote_plus(value), json.dumps(value)[1:-1]}
    if len(value) == 18:  # an ID number, also split as people type it
        forms.add(f"{value[:6]} {value[6:14]} {value[14:]}")
    return {form for form in forms if form}


@pytest.fixture(params=["text", "json"])
def log_format(request) -> str:
    return request.param


@pytest.fixture
def debug_log(tmp_path, log_format):
    """This process's own log at DEBUG (what management code and the Django client write)."""
    from civicgrid.platform.monitoring.logs import JsonFormatter, RequestContextFilter

    path = tmp_path / "in-process.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setLevel(logging.DEBUG)
    handler.addFilter(RequestContextFilter())
    handler.setFormatter(JsonFormatter() if log_format == "json"
                         else logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    loggers = [logging.getLogger(name) for name in ("civicgrid", "django", "axes")]
    old_levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
    yield path
    root.removeHandler(handler)
    root.setLevel(old_level)
    for logger, level in zip(loggers, old_levels, strict=True):
        logger.setLevel(level)
    handler.close()


@pytest.fixture
def live_server_log(committed, tmp_path, log_format):
    port = free_port()
    log = tmp_path / "server.log"
    access = tmp_path / "access.log"
    env = child_env(LOG_LEVEL="DEBUG", CIVICGRID_LOG_LEVEL="DEBUG", CIVICGRID_LOG_FORMAT=log_format)
    command = [sys.executable, "-m", "daphne", "-v", "2", "--access-log", str(access), "-b", "127.0.0.1",
               "-p", str(port), "civicgrid.config.asgi:application"]
    with open(log, "wb") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
        try:
            wait_for_port(port, process)
            yield f"http://127.0.0.1:{port}", [log, access]
        finally:
            process.terminate()
            process.wait(timeout=10)


def session(base: str, username: str | None = None) -> requests.Session:
    http = requests.Session()
    http.request = functools.partial(http.request, timeout=60)
    http.headers.update({"Host": HOST, "Accept-Language": "zh-hans"})
    if username:
        http.auth = (username, PASSWORD)
    http.base = base
    return http


def console_post(http: requests.Session, path: str, data: dict, **kwargs):
    """A form post as a browser sends it: the CSRF cookie from the page, its token in the form."""
    page = http.get(http.base + path)
    token = http.cookies.get("csrftoken") or re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"',
                                                        page.text).group(1)
    return http.post(http.base + path, data={**data, "csrfmiddlewaretoken": token},
                     headers={"Referer": f"http://{HOST}{path}"}, **kwargs)


def test_a_full_run_leaves_no_phone_id_number_or_name_in_any_log(committed, live_server_log, debug_log, log_format):
    world = committed  # no test transaction: the server in its own process sees what is made here
    from civicgrid.platform.accounts.actions import create_staff_member
    from civicgrid.platform.accounts.staff.models import StaffRole
    from civicgrid.platform.api.open311 import keys
    from civicgrid.platform.cases.models import Case
    from civicgrid.platform.org.models import OrgUnit
    from civicgrid.platform.registry.models import Person

    base, server_logs = live_server_log
    person = {"name": "司马明远", "id_number": id_number(), "phone": phone()}
    reporter = {"name": "欧阳晓燕", "id_number": id_number(), "phone": phone()}
    verifier_name = f"sec_verifier_{random.randrange(10 ** 6)}"
    with tenant_context(world.shangcheng):
        create_staff_member(username=verifier_name, password=PASSWORD, role=StaffRole.COMMUNITY_OPERATOR,
                            scope_org_unit=OrgUnit.objects.get(code="T01-C01"), acting_user=None)
        api_key = keys.create_key(label="日志测试")
    started = timezone.now()
    try:
        worker = session(base, "shangcheng_gridworker")
        # A person registered over the API, then found by ID number and by phone.
        made = worker.post(base + "/api/v1/registry/persons/", json={
            **person, "grid": "T01-C01-G01", "registered_address": "幸福路1号", "actual_address": "幸福路1号"})
        assert made.status_code == 201, made.text
        console = session(base)
        signed = console_post(console, "/accounts/login/", {"username": "shangcheng_gridworker",
                                                            "password": PASSWORD}, allow_redirects=False)
        assert signed.status_code == 302, signed.text[:500]
        for field in ("id_number", "phone"):
            found = console_post(console, "/registry/persons/", {field: person[field]})
            assert [r.status_code for r in found.history] == [303], field  # posted, then redirected
            assert found.status_code == 200 and person["name"] in found.text, (field, found.status_code)
            assert f"{field}_index=" in found.url and person[field] not in found.url
            assert re.search(r'<h1>[^<]*<span class="muted">1</span>', found.text), field  # that one person
        # An integration's search: the numbers in the body, never in the URL.
        for field in ("id_number", "phone"):
            found = worker.post(base + "/api/v1/registry/persons/search/", json={field: person[field]})
            assert found.status_code == 200 and found.json()["count"] == 1, found.text
        # Bad input that echoes a value back: a wrong ID number.
        bad = worker.post(base + "/api/v1/registry/persons/", json={
            **person, "id_number": person["id_number"][:17] + ("0" if person["id_number"][17] != "0" else "1"),
            "grid": "T01-C01-G01"})
        assert bad.status_code == 400
        # Reports: over the API (a reporter's phone, an ID number in the text) and Open311.
        reported = worker.post(base + "/api/v1/cases/", json={
            "category": "DSP-NEIGHBOUR", "title": "邻里纠纷", "latitude": IN_G01["latitude"],
            "longitude": IN_G01["longitude"], "reporter_name": reporter["name"], "reporter_phone": reporter["phone"],
            "description": f"{reporter['name']}（身份证{reporter['id_number']}，电话{reporter['phone']}）反映楼上漏水"})
        assert reported.status_code == 201, reported.text
        open311 = requests.post(base + "/open311/v2/requests.json", headers={"Host": HOST}, timeout=60, data={
            "api_key": api_key, "service_code": "DSP-NEIGHBOUR", "lat": str(IN_G01["latitude"]),
            "long": str(IN_G01["longitude"]), "first_name": "晓燕", "last_name": "欧阳", "phone": reporter["phone"],
            "description": f"身份证{reporter['id_number']}"})
        assert open311.status_code in (200, 201), open311.text
        refused = requests.post(base + "/open311/v2/requests.json", headers={"Host": HOST}, timeout=60, data={
            "api_key": "wrong", "service_code": "DSP-NEIGHBOUR", "phone": reporter["phone"]})
        assert refused.status_code in (400, 403)
        # Sign-in failures, one with a phone typed as the user name.
        for username in (reporter["phone"], "shangcheng_gridworker"):
            failed = console_post(session(base), "/accounts/login/", {"username": username, "password": "wrong-1"})
            assert failed.status_code == 200
        # A verification by list, with one matching and one unknown person.
        verifier = session(base, verifier_name)
        verified = verifier.post(base + "/api/v1/registry/verifications/", json={"rows": [
            {"name": person["name"], "id_number": person["id_number"], "address": "幸福路1号"},
            {"name": reporter["name"], "id_number": reporter["id_number"], "address": "别处"}]})
        assert verified.status_code == 200, verified.text
        canary = phone()  # not anyone's: proves below that a number in a URL would be caught
        requests.get(base + f"/api/v1/health/?canary={canary}", headers={"Host": HOST}, timeout=60)
    finally:
        with tenant_context(world.shangcheng):
            Person.objects.filter(created_at__gte=started).delete()
            Case.objects.filter(reported_at__gte=started).delete()
            from civicgrid.platform.accounts.models import User

            User.objects.filter(username=verifier_name).delete()
            for row in keys.keys().filter(revoked_at__isnull=True, label="日志测试"):
                keys.revoke_key(key_id=row.pk)
    logs = {path.name: path.read_text(encoding="utf-8", errors="replace") for path in [*server_logs, debug_log]}
    # The logs were written and the search would see a number: a canary sent in a URL is found.
    assert canary in logs["access.log"] and "/registry/persons/?" in logs["access.log"]
    assert "Bad Request: /api/v1/registry/persons/" in logs["server.log"]  # Django's own log lines too
    if log_format == "json":
        assert_json_lines(logs["server.log"], logs["in-process.log"])
    hits = []
    for who in (person, reporter):
        for kind, value in who.items():
            for form in spellings(value):
                for name, text in logs.items():
                    if form in text:
                        line = next(line for line in text.splitlines() if form in line)
                        hits.append(f"{name}: {kind} {form!r} in {line[:300]}")
    assert hits == [], "\n".join(hits)
    assert Path(debug_log).exists()


def assert_json_lines(server: str, in_process: str) -> None:
    """Every line the server's and this process's logging wrote is one JSON object of the fixed
    fields; the server's request lines name their request and route. Only the server's first
    lines may be plain: plugin discovery warns while the settings load, before Django has
    configured logging."""
    from tests.platform.monitoring.test_logs import FIELDS

    server_lines = server.splitlines()
    first_json = next(i for i, line in enumerate(server_lines) if line.startswith("{"))
    assert all("plugin " in line for line in server_lines[:first_json]), server_lines[:first_json]
    lines = [json.loads(line) for line in server_lines[first_json:] + in_process.splitlines()]
    assert len(lines) > 20 and all(set(line) <= FIELDS for line in lines)
    bad = [line for line in lines if line["message"] == "Bad Request: /api/v1/registry/persons/"]
    assert bad and bad[0]["level"] == "WARNING" and bad[0]["logger"] == "django.request"
    assert bad[0]["tenant"] == "shangcheng" and bad[0]["route"] == "api-registry-persons"
    assert len(bad[0]["request_id"]) == 32


def test_the_console_person_search_keeps_numbers_out_of_urls(world):
    from django.test import Client

    from civicgrid.platform.registry import protection

    http = Client(HTTP_HOST=HOST, HTTP_ACCEPT_LANGUAGE="en")
    http.force_login(world.user("shangcheng_operator"))
    number = id_number()
    posted = http.post("/registry/persons/", {"id_number": number})
    assert posted.status_code == 303 and number not in posted["Location"]
    assert f"id_number_index={protection.blind_index(number, 'id')}" in posted["Location"]
    # A link with the number itself (a bookmark, an old page) is sent on to the same place.
    linked = http.get("/registry/persons/?phone=13912345678")
    assert linked.status_code == 303 and "13912345678" not in linked["Location"]
    # A wrong number: a clear error in place, no redirect; a forged index: nothing found.
    wrong = http.post("/registry/persons/", {"id_number": number[:17] + ("1" if number[17] == "0" else "0")})
    assert wrong.status_code == 400 and number[:17] not in wrong.content.decode().split("<form")[0]
    forged = http.get("/registry/persons/?id_number_index=nothex")
    assert forged.status_code == 200 and forged.context["page"].paginator.count == 0


ROUTES_COVERED = {"api-registry-persons-search": "test_the_api_person_search_takes_numbers_in_the_body"}


def test_the_api_person_search_takes_numbers_in_the_body(world):
    from django.test import Client

    from civicgrid.platform.accounts.staff.models import StaffProfile
    from civicgrid.platform.org.models import OrgUnit
    from civicgrid.platform.registry import actions

    number, mobile = id_number(), phone()
    with tenant_context(world.shangcheng):
        worker = StaffProfile.objects.get(user__username="shangcheng_gridworker")
        actions.create_person(staff=worker, name="上官清风", id_number=number, phone=mobile,
                              grid=OrgUnit.objects.get(code="T01-C01-G01"))

    def search(username, host=HOST, **body):
        http = Client(HTTP_HOST=host, HTTP_ACCEPT_LANGUAGE="en")
        if username:
            http.force_login(world.user(username))
        return http.post("/api/v1/registry/persons/search/", body, content_type="application/json")

    for username in ("shangcheng_operator", "shangcheng_gridworker"):
        for body in ({"id_number": number}, {"phone": mobile}):
            found = search(username, **body)
            assert found.status_code == 200, found.content
            assert found.json()["count"] == 1 and found.json()["results"][0]["name"] == "上官清风"
    assert search("shangcheng_operator", id_number="1234")["Content-Type"] == "application/json"
    assert search("shangcheng_operator", id_number="1234").status_code == 400
    assert search("yuhang_operator", id_number=number).status_code == 404  # another county's member
    assert search("shangcheng_operator", host="yuhang.localhost", id_number=number).status_code == 404
    assert search(None, id_number=number).status_code == 403
    with tenant_context(world.shangcheng):  # a grid worker elsewhere sees nobody there
        from civicgrid.platform.accounts.actions import create_staff_member

        create_staff_member(username="sec_far_worker", password="x" * 12, role="grid_worker",
                            scope_org_unit=OrgUnit.objects.get(code="T02-C01-G01"), acting_user=None)
    assert search("sec_far_worker", id_number=number).json()["count"] == 0
