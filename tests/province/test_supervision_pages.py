"""Supervision pages over the published aggregates: the province's for provincial admins and
supervisors (404 for vendors and county staff, sign-in for the anonymous); a city's for its
admin, command centre and auditors, showing only its counties, 404 on a county's host and for
everyone else; ranking, sorting, a chosen tenant's trend and breakdown, XLSX export."""

from __future__ import annotations

import io
import json
import re

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context
from openpyxl import load_workbook

from civicgrid.platform.accounts.actions import create_province_user, create_staff_member
from civicgrid.platform.accounts.models import ProvinceRole
from civicgrid.platform.accounts.staff.models import StaffRole
from civicgrid.platform.org.actions import create_department
from civicgrid.tenants.models import Tenant

from .figures import bare_tenant, publish_days

ROUTES_COVERED = {
    "province-supervision": "test_the_province_page_is_for_provincial_admins_and_supervisors",
    "city-supervision": "test_a_city_sees_only_its_counties_and_no_one_else_sees_the_page",
}

PROVINCE, HANGZHOU, SHANGCHENG = "localhost", "hangzhou.localhost", "shangcheng.localhost"
PAGE, CITY_PAGE = "/province/supervision/", "/supervision/"


def signed_in(world, username, host=PROVINCE):
    client = Client(HTTP_HOST=host)
    client.force_login(world.user(username))
    return client


def tenants_listed(response) -> list[str]:
    return re.findall(r'<tr id="tenant-(\d{6})"', response.content.decode())


def ranks(response) -> dict[str, str]:
    return dict(re.findall(r'<tr id="tenant-(\d{6})" data-tenant="\d{6}" data-level="\w+" data-rank="(\d*)"',
                           response.content.decode()))


def chart_data(response) -> dict:
    text = response.content.decode()
    return json.loads(re.search(r'<script id="supervision-data" type="application/json">(.*?)</script>', text,
                                re.S).group(1))


def other_city():
    """温州市 and its 平阳县: published figures only, no schema (the pages never read one)."""
    wenzhou = bare_tenant("温州市", "330300", Tenant.Level.CITY)
    pingyang = bare_tenant("平阳县", "330326", Tenant.Level.COUNTY, wenzhou)
    publish_days(pingyang, days=3, reported=9, handled=4, handled_on_time=1, overdue_open=5)
    return wenzhou, pingyang


def publish_world(world):
    # 上城区: 2 a day for 10 days, all handled on time; 余杭区: 3 a day, half of the handled late.
    publish_days(world.shangcheng, days=10, reported=2, handled=2, handled_on_time=2, rated=1, rating_sum=5,
                 satisfied=1, overdue_open=0)
    publish_days(world.yuhang, days=10, kinds=(("DSP-CONSUMER", "DSP"), ("URB-ROAD", "URB")), reported=3,
                 handled=2, handled_on_time=1, overdue_open=2)


def test_the_province_page_is_for_provincial_admins_and_supervisors(world):
    publish_world(world)
    other_city()
    assert Client(HTTP_HOST=PROVINCE).get(PAGE)["Location"].startswith("/accounts/login/")
    create_province_user(username="vendor_x", password="x" * 12, province_role=ProvinceRole.VENDOR,
                         acting_user=None)
    assert signed_in(world, "vendor_x").get(PAGE).status_code == 404
    assert signed_in(world, "shangcheng_operator").get(PAGE).status_code == 404  # county staff
    assert signed_in(world, "shangcheng_operator", SHANGCHENG).get(PAGE).status_code == 404  # not on a tenant

    for username in ("prov_admin", "prov_supervisor"):
        client = signed_in(world, username)
        with CaptureQueriesContext(connection) as queries:
            page = client.get(PAGE)
        assert page.status_code == 200 and len(queries) <= 30
        assert set(tenants_listed(page)) == {"330100", "330102", "330110", "330300", "330326"}
        assert 'href="/province/supervision/"' in page.content.decode()  # in the top navigation
    # Ranked by on-time rate (the default): 上城区 100 %, 余杭区 50 %, 平阳县 25 %; cities handled nothing.
    assert ranks(page) == {"330102": "1", "330110": "2", "330326": "3", "330100": "", "330300": ""}
    assert tenants_listed(page)[:3] == ["330102", "330110", "330326"]
    data = chart_data(page)
    assert len(data["days"]) == 30
    assert data["scope"]["reported"][-1] == 2 + 2 * 3 + 9 and data["scope"]["on_time_rate"][-1] == round(
        100 * (2 + 2 * 1 + 1) / (2 + 2 * 2 + 4), 1)
    assert {t["code"]: t["value"] for t in data["map"]["tenants"]} == {"330102": 100.0, "330110": 50.0,
                                                                       "330326": 25.0}
    assert data["map"]["city"] == "" and data["map"]["boundaries"].endswith("province/zhejiang-counties.geojson")

    # Overdue now is the latest day's, not the period's sum; lower is better.
    page = client.get(PAGE, {"measure": "overdue_open"})
    assert ranks(page) == {"330102": "1", "330110": "2", "330326": "3", "330100": "", "330300": ""}
    assert re.search(r'id="tenant-330326".*?data-cell="overdue_open">5<', page.content.decode(), re.S)
    # Sorting by a column, both ways; tenants without the figure last either way.
    page = client.get(PAGE, {"sort": "-reported", "days": "7"})
    assert tenants_listed(page)[:3] == ["330110", "330326", "330102"]  # 42, 27 (three days), 14
    assert tenants_listed(client.get(PAGE, {"sort": "name"})) == ["330102", "330110", "330326", "330100", "330300"]
    assert tenants_listed(client.get(PAGE, {"sort": "division_code"})) == sorted(tenants_listed(page))
    page = client.get(PAGE, {"sort": "-on_time_rate"})
    assert tenants_listed(page)[-2:] == ["330100", "330300"]
    page = client.get(PAGE, {"sort": "on_time_rate"})
    assert tenants_listed(page)[:3] == ["330326", "330110", "330102"]
    assert tenants_listed(page)[-2:] == ["330100", "330300"]
    # Nonsense in the query string falls back to the defaults.
    assert client.get(PAGE, {"days": "1000", "sort": "password", "measure": "x"}).status_code == 200

    # A chosen tenant: its row marked, its trend beside the province's, its kinds and townships.
    page = client.get(PAGE, {"tenant": "330110", "days": "7"})
    text = page.content.decode()
    assert 'id="tenant-330110" data-tenant="330110" data-level="county" data-rank="2" class="chosen"' in text
    assert chart_data(page)["chosen"]["reported"] == [6] * 7
    assert re.findall(r'<tr data-code="(\w+)"', text) == ["DSP", "URB", "T01"]
    assert client.get(PAGE, {"tenant": "999999"}).status_code == 404

    # The table as a workbook.
    export = client.get(PAGE, {"format": "xlsx", "days": "7"})
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = list(load_workbook(io.BytesIO(b"".join(export.streaming_content))).active.iter_rows(values_only=True))
    assert len(rows) == 1 + 5
    assert rows[1][:3] == (1, "上城区", "330102") and rows[1][4] == 14 and rows[1][9] == 100


def test_a_city_sees_only_its_counties_and_no_one_else_sees_the_page(world):
    publish_world(world)
    other_city()
    assert world.city.level == Tenant.Level.CITY
    city_admin = f"{world.city.schema_name}_admin"
    page = signed_in(world, city_admin, HANGZHOU).get(CITY_PAGE)
    assert page.status_code == 200
    assert sorted(tenants_listed(page)) == ["330102", "330110"]  # not the city itself, not 平阳县
    data = chart_data(page)
    assert data["map"]["city"] == "330100" and {t["code"] for t in data["map"]["tenants"]} == {"330102", "330110"}
    assert data["scope"]["reported"][-1] == 2 + 6
    assert 'href="/supervision/"' in page.content.decode()  # the left navigation has it
    assert signed_in(world, city_admin, HANGZHOU).get(CITY_PAGE, {"tenant": "330326"}).status_code == 404
    assert signed_in(world, city_admin, HANGZHOU).get(CITY_PAGE, {"format": "xlsx"}).status_code == 200

    with tenant_context(world.city):
        create_staff_member(username="hangzhou_auditor", password="x" * 12, role=StaffRole.AUDITOR,
                            acting_user=None)
        create_staff_member(username="hangzhou_commander", password="x" * 12, role=StaffRole.COMMAND_OPERATOR,
                            acting_user=None)
        department = create_department(code="D-CITY-JUS", name="市司法局", acting_user=None)
        create_staff_member(username="hangzhou_handler", password="x" * 12, role=StaffRole.DEPARTMENT_HANDLER,
                            scope_department=department, acting_user=None)
    for username in ("hangzhou_auditor", "hangzhou_commander"):
        assert signed_in(world, username, HANGZHOU).get(CITY_PAGE).status_code == 200
    handler = signed_in(world, "hangzhou_handler", HANGZHOU)
    assert handler.get(CITY_PAGE).status_code == 404
    assert 'href="/supervision/"' not in handler.get("/").content.decode()

    # Anyone else: sign in first on the city's host; another tenant's staff and province users get 404.
    assert Client(HTTP_HOST=HANGZHOU).get(CITY_PAGE)["Location"].startswith("/accounts/login/")
    assert signed_in(world, "shangcheng_operator", HANGZHOU).get(CITY_PAGE).status_code == 404
    assert signed_in(world, "prov_admin", HANGZHOU).get(CITY_PAGE).status_code == 404
    # A county's host has no such page, not even for its own admin; nor a link to it.
    county_admin = signed_in(world, "shangcheng_admin", SHANGCHENG)
    assert county_admin.get(CITY_PAGE).status_code == 404
    assert 'href="/supervision/"' not in county_admin.get("/").content.decode()
    assert Client(HTTP_HOST=SHANGCHENG).get(CITY_PAGE).status_code == 404
