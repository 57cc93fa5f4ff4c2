"""The grid map's data: grids as GeoJSON, open cases coloured by light, density per grid,
a grid's card with counts and no personal data; scoped per role, nothing across tenants."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from civicgrid.platform.accounts.staff.models import StaffRole
from civicgrid.platform.org.models import OrgUnit
from civicgrid.platform.registry.models import Person
from tests.platform.cases.test_case_pages import IN_G01, IN_T02, member, report
from tests.platform.console.test_queue import SHANGCHENG, YUHANG, signed_in

ROUTES_COVERED = {
    "console-map": "test_the_map_is_not_found_for_another_tenant",
    "console-map-grids": "test_the_map_is_not_found_for_another_tenant",
    "console-map-cases": "test_the_map_is_not_found_for_another_tenant",
    "console-map-density": "test_the_map_is_not_found_for_another_tenant",
    "console-map-grid": "test_a_grids_card_counts_people_and_cases_and_names_no_one",
}


@pytest.fixture
def sc(world):
    with tenant_context(world.shangcheng):
        member("m_t02", StaffRole.TOWNSHIP_OPERATOR, unit="T02")
        yield world


def test_the_map_page_serves_its_library_locally(sc):
    html = signed_in(sc, "shangcheng_operator").get("/map/").content.decode()
    assert "/static/vendor/leaflet/leaflet.js" in html and "unpkg" not in html and "tile" not in html.lower()


def test_grids_and_open_cases_are_geojson_scoped_to_the_actor(sc):
    here = report(title="地图上的井盖缺失", **IN_G01)
    there = report(by="shangcheng_operator", title="二街道的路灯不亮", **IN_T02)
    operator = signed_in(sc, "shangcheng_operator")
    grids = operator.get("/map/grids.geojson").json()
    codes = {f["properties"]["code"] for f in grids["features"]}
    assert "T01-C01-G01" in codes and "T02-C01-G01" in codes
    assert all(f["geometry"]["type"] in ("Polygon", "MultiPolygon") for f in grids["features"])
    pins = {f["properties"]["number"]: f for f in operator.get("/map/cases.geojson").json()["features"]}
    assert here.number in pins and there.number in pins
    assert pins[here.number]["properties"]["light"] in ("green", "yellow", "red")
    lng, lat = pins[here.number]["geometry"]["coordinates"]
    assert abs(lat - IN_G01["latitude"]) < 1e-6 and abs(lng - IN_G01["longitude"]) < 1e-6

    township = signed_in(sc, "m_t02")
    visible = {f["properties"]["code"] for f in township.get("/map/grids.geojson").json()["features"]}
    assert "T02-C01-G01" in visible and "T01-C01-G01" not in visible
    numbers = {f["properties"]["number"] for f in township.get("/map/cases.geojson").json()["features"]}
    assert there.number in numbers and here.number not in numbers


def test_the_density_layer_counts_by_category(sc):
    report(title="密度一", **IN_G01)
    report(title="密度二", **IN_G01)
    operator = signed_in(sc, "shangcheng_operator")
    counts = operator.get("/map/density.json?category=DSP").json()["counts"]
    assert counts.get("T01-C01-G01", 0) >= 2
    unknown = operator.get("/map/density.json?category=NOPE")
    assert unknown.status_code == 200, "an unknown code is ignored, never an error"
    assert unknown.json()["counts"] == operator.get("/map/density.json").json()["counts"]


def test_a_grids_card_counts_people_and_cases_and_names_no_one(sc):
    with tenant_context(sc.shangcheng):
        grid = OrgUnit.objects.get(code="T01-C01-G01")
        people = Person.objects.filter(grid=grid).count()
        names = list(Person.objects.filter(grid=grid).values_list("name", flat=True)[:5])
    report(title="卡片上的事件", **IN_G01)
    card = signed_in(sc, "shangcheng_operator").get("/map/grids/T01-C01-G01/")
    data = card.json()
    assert data["people"] == people and data["open_cases"] >= 1
    assert data["cases_url"].endswith("?grid=T01-C01-G01")
    body = card.content.decode()
    assert not any(name and name in body for name in names)
    assert signed_in(sc, "m_t02").get("/map/grids/T01-C01-G01/").status_code == 404, "outside their township"
    assert signed_in(sc, "yuhang_operator", YUHANG).get("/map/grids/T01-C01-G01/",
                                                        HTTP_HOST=SHANGCHENG).status_code == 404


def test_the_map_is_not_found_for_another_tenant(sc):
    for path in ("/map/", "/map/grids.geojson", "/map/cases.geojson", "/map/density.json"):
        client = signed_in(sc, "yuhang_operator", YUHANG)
        assert client.get(path, HTTP_HOST=SHANGCHENG).status_code == 404, path
        assert signed_in(sc, "shangcheng_operator").get(path).status_code == 200, path


def test_the_drawn_grids_follow_a_changed_boundary(sc):
    from civicgrid.platform.org.actions import set_grid_boundary

    operator = signed_in(sc, "shangcheng_operator")
    before = {f["properties"]["code"]: f["geometry"] for f in operator.get("/map/grids.geojson").json()["features"]}
    assert operator.get("/map/grids.geojson").json()["features"], "served again (from the cache)"
    with tenant_context(sc.shangcheng):
        grid = OrgUnit.objects.get(code="T01-C01-G01")
        ring = [[120.0, 30.0], [120.001, 30.0], [120.001, 30.001], [120.0, 30.001], [120.0, 30.0]]
        set_grid_boundary(grid=grid, boundary={"type": "Polygon", "coordinates": [ring]}, acting_user=None)
    from django.db import connection

    for callback in [c for _sids, c, _robust in connection.run_on_commit]:
        callback()  # the test's transaction never commits: run what commit would
    after = {f["properties"]["code"]: f["geometry"] for f in operator.get("/map/grids.geojson").json()["features"]}
    assert after["T01-C01-G01"]["coordinates"] == [ring] != before["T01-C01-G01"]["coordinates"]
