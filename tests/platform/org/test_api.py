"""The org API: units and departments scoped to the caller, point → grid."""

import pytest
from django.test import Client
from django_tenants.utils import tenant_context

from civicgrid.platform.accounts.actions import create_staff_member
from civicgrid.platform.accounts.staff.models import StaffRole
from civicgrid.platform.org.models import OrgUnit
from tests.world import PASSWORD

from .helpers import SHANGCHENG, SHANGCHENG_CENTER, YUHANG, YUHANG_CENTER, inside, signed_in

ROUTES_COVERED = {
    "api-org-units": "test_units_are_scoped_to_the_caller",
    "api-org-unit": "test_a_unit_comes_with_its_boundary_within_scope",
    "api-org-departments": "test_departments_are_for_staff_of_the_tenant",
    "api-org-locate": "test_locate_answers_with_a_visible_grid_or_404",
}


@pytest.fixture
def township_operator(world):
    with tenant_context(world.shangcheng):
        create_staff_member(username="sc_t02_operator", password=PASSWORD, role=StaffRole.TOWNSHIP_OPERATOR,
                            scope_org_unit=OrgUnit.objects.get(code="T02"), acting_user=None)
    return "sc_t02_operator"


def codes(response):
    assert response.status_code == 200, response.content
    return {row["code"] for row in response.json()["results"]}


def test_units_are_scoped_to_the_caller(world, township_operator):
    admin = signed_in(world, "shangcheng_admin")
    every = codes(admin.get("/api/v1/org/units/"))
    assert len(every) == 14
    assert codes(admin.get("/api/v1/org/units/?level=grid")) == {c for c in every if "-G" in c}
    assert codes(admin.get("/api/v1/org/units/?parent=T01-C01")) == {"T01-C01-G01", "T01-C01-G02"}
    assert codes(admin.get("/api/v1/org/units/?level=township")) == {"T01", "T02"}
    assert admin.get("/api/v1/org/units/?level=planet").status_code == 400
    row = next(r for r in admin.get("/api/v1/org/units/?parent=T01").json()["results"] if r["code"] == "T01-C01")
    assert row == {"code": "T01-C01", "name": "幸福社区", "level": "village", "parent": "T01",
                   "path": "T01/T01-C01/"}
    assert codes(signed_in(world, "shangcheng_operator").get("/api/v1/org/units/")) == every
    assert codes(signed_in(world, township_operator).get("/api/v1/org/units/")) == {
        c for c in every if c.startswith("T02")}
    assert codes(signed_in(world, "shangcheng_gridworker").get("/api/v1/org/units/")) == {"T01-C01-G01"}
    assert codes(signed_in(world, "shangcheng_gridworker").get("/api/v1/org/units/?parent=T01-C01")) == {
        "T01-C01-G01"}
    # Another tenant's admin and a province user get 404; nobody signed in, 401/403.
    assert signed_in(world, "yuhang_admin").get("/api/v1/org/units/").status_code == 404
    assert signed_in(world, "prov_admin").get("/api/v1/org/units/").status_code == 404
    assert Client(HTTP_HOST=SHANGCHENG).get("/api/v1/org/units/").status_code in (401, 403)
    # The same URL on Yuhang's host answers with Yuhang's tree.
    assert len(codes(signed_in(world, "yuhang_admin", YUHANG).get("/api/v1/org/units/"))) == 14


def test_a_unit_comes_with_its_boundary_within_scope(world, township_operator):
    body = signed_in(world, "shangcheng_admin").get("/api/v1/org/units/T01-C01-G01/").json()
    assert body["level"] == "grid" and body["parent"] == "T01-C01"
    assert body["boundary"]["type"] == "Polygon" and body["boundary"]["coordinates"][0][0] == list(SHANGCHENG_CENTER)
    township = signed_in(world, "shangcheng_admin").get("/api/v1/org/units/T01/").json()
    assert township["boundary"] is None and township["parent"] is None
    worker = signed_in(world, "shangcheng_gridworker")
    assert worker.get("/api/v1/org/units/T01-C01-G01/").status_code == 200
    missing = worker.get("/api/v1/org/units/NOPE/")
    forbidden = worker.get("/api/v1/org/units/T01-C01-G02/")
    assert missing.status_code == forbidden.status_code == 404 and missing.json() == forbidden.json()
    assert signed_in(world, township_operator).get("/api/v1/org/units/T01-C01-G01/").status_code == 404
    assert signed_in(world, "yuhang_admin").get("/api/v1/org/units/T01-C01-G01/").status_code == 404
    assert signed_in(world, "prov_admin").get("/api/v1/org/units/T01/").status_code == 404


def test_departments_are_for_staff_of_the_tenant(world):
    rows = signed_in(world, "shangcheng_gridworker").get("/api/v1/org/departments/").json()["results"]
    assert {r["code"] for r in rows} == {"D-PSB", "D-JUS", "D-SAMR", "D-FIRE", "D-EDU", "D-T01-LAW"}
    assert next(r for r in rows if r["code"] == "D-T01-LAW") == {
        "code": "D-T01-LAW", "name": "城东街道综合行政执法队", "level": "township", "township": "T01"}
    assert signed_in(world, "yuhang_admin").get("/api/v1/org/departments/").status_code == 404
    assert signed_in(world, "prov_supervisor").get("/api/v1/org/departments/").status_code == 404
    assert signed_in(world, "shangcheng_admin").post("/api/v1/org/departments/", {}).status_code == 405


def test_locate_answers_with_a_visible_grid_or_404(world):
    admin = signed_in(world, "shangcheng_admin")
    lng, lat = inside(SHANGCHENG_CENTER, 0, 1)
    found = admin.get(f"/api/v1/org/locate/?lng={lng}&lat={lat}")
    assert found.status_code == 200
    assert found.json() == {"grid": "T01-C01-G02", "name": "幸福社区第2网格", "candidates": ["T01-C01-G02"]}
    edge = admin.get(f"/api/v1/org/locate/?lng={SHANGCHENG_CENTER[0] + 0.005}&lat={SHANGCHENG_CENTER[1] + 0.01}")
    assert edge.json()["grid"] == "T01-C01-G01" and edge.json()["candidates"] == ["T01-C01-G01", "T01-C01-G02"]
    assert admin.get("/api/v1/org/locate/?lng=100&lat=20").status_code == 404
    assert admin.get("/api/v1/org/locate/?lng=east&lat=20").status_code == 400
    assert admin.get("/api/v1/org/locate/?lat=20").status_code == 400
    # A grid worker learns only about grids in scope; the shared edge answers with theirs.
    worker = signed_in(world, "shangcheng_gridworker")
    assert worker.get(f"/api/v1/org/locate/?lng={lng}&lat={lat}").status_code == 404
    assert worker.get(f"/api/v1/org/locate/?lng={SHANGCHENG_CENTER[0] + 0.005}&lat={SHANGCHENG_CENTER[1] + 0.01}"
                      ).json()["candidates"] == ["T01-C01-G01"]
    # Tenants never mix: Yuhang's admin gets 404 here, and Shangcheng's point means nothing on Yuhang's host.
    assert signed_in(world, "yuhang_admin").get(f"/api/v1/org/locate/?lng={lng}&lat={lat}").status_code == 404
    yuhang = signed_in(world, "yuhang_admin", YUHANG)
    assert yuhang.get(f"/api/v1/org/locate/?lng={lng}&lat={lat}").status_code == 404
    y_lng, y_lat = inside(YUHANG_CENTER, 0, 1)
    assert yuhang.get(f"/api/v1/org/locate/?lng={y_lng}&lat={y_lat}").json()["grid"] == "T01-C01-G02"
    assert signed_in(world, "prov_admin").get(f"/api/v1/org/locate/?lng={lng}&lat={lat}").status_code == 404
