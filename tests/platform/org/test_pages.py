"""Console pages of the org tree: scoping per role, the SVG drawing, departments,
staff and imports; the wrong tenant and the wrong role get 404 and change nothing."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django_tenants.utils import tenant_context

from civicgrid.platform.accounts.actions import create_staff_member
from civicgrid.platform.accounts.models import User
from civicgrid.platform.accounts.staff.models import StaffProfile, StaffRole
from civicgrid.platform.org.actions import create_org_unit
from civicgrid.platform.org.models import Department, OrgUnit
from tests.world import PASSWORD

from .helpers import SHANGCHENG, signed_in

ROUTES_COVERED = {
    "org-tree": "test_the_tree_shows_each_role_its_own_part",
    "org-unit": "test_unit_pages_draw_the_grids_the_actor_may_see",
    "org-departments": "test_departments_are_created_by_county_admins_only",
    "org-staff": "test_staff_are_created_by_county_admins_only",
    "org-import-tree": "test_imports_are_for_county_admins_only",
    "org-import-grids": "test_imports_are_for_county_admins_only",
}

PATH = re.compile(r'<path class="org-grid( current)?" data-code="([^"]+)" d="(M[^"]+)"')


@pytest.fixture
def township_operator(world):
    with tenant_context(world.shangcheng):
        create_staff_member(username="sc_t01_operator", password=PASSWORD, role=StaffRole.TOWNSHIP_OPERATOR,
                            scope_org_unit=OrgUnit.objects.get(code="T01"), acting_user=None)
    return "sc_t01_operator"


def tree_codes(response) -> set[str]:
    return set(re.findall(r'href="/org/units/([^/]+)/"', response.content.decode()))


def test_the_tree_shows_each_role_its_own_part(world, township_operator):
    every = tree_codes(signed_in(world, "shangcheng_admin").get("/org/"))
    assert len(every) == 14 and {"T01", "T02", "T02-C02-G02"} <= every
    assert tree_codes(signed_in(world, "shangcheng_operator").get("/org/")) == every
    township = tree_codes(signed_in(world, township_operator).get("/org/"))
    assert township == {c for c in every if c.startswith("T01")} and len(township) == 7
    worker = signed_in(world, "shangcheng_gridworker").get("/org/")
    assert worker.status_code == 200 and tree_codes(worker) == {"T01-C01-G01"}
    # Staff counts: the grid worker is scoped to T01-C01-G01, the township operator to T01.
    page = signed_in(world, "shangcheng_admin", ).get("/org/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    grid_line = re.search(r"T01-C01-G01</code>\s*<span[^>]*>([^<]*)", page).group(1)
    assert grid_line.startswith("1 staff member")
    township_line = re.search(r"<code>T01</code>\s*<span[^>]*>([^<]*)", page).group(1)
    assert township_line.startswith("1 staff member · 2 in all · 4 grids")
    assert "<details" in page  # collapsible without script
    # Another tenant's admin, a province user, nobody: nothing.
    assert signed_in(world, "yuhang_admin").get("/org/").status_code == 404
    assert signed_in(world, "prov_admin").get("/org/").status_code == 404
    assert Client(HTTP_HOST=SHANGCHENG).get("/org/").status_code == 302


def test_unit_pages_draw_the_grids_the_actor_may_see(world, township_operator):
    admin = signed_in(world, "shangcheng_admin")
    page = admin.get("/org/units/T01-C01-G01/")
    assert page.status_code == 200
    html = page.content.decode()
    # Drawn without script of its own (only the console's live updates and htmx) and without tiles.
    assert "<svg" in html and not re.search(r"<script(?![^>]*(civicgrid/live\.js|vendor/htmx/))", html) and "tile" not in html
    drawn = PATH.findall(html)
    # The grid (highlighted) and its neighbour under the same community.
    assert [(current, code) for current, code, _ in drawn] == [(" current", "T01-C01-G01"), ("", "T01-C01-G02")]
    view_box = [float(v) for v in re.search(r'viewBox="([^"]+)"', html).group(1).split()]
    for _, _, d in drawn:
        numbers = [float(n) for n in re.findall(r"[\d.]+", d)]
        xs, ys = numbers[0::2], numbers[1::2]
        assert len(xs) == 4 and d.startswith("M") and d.endswith("Z")  # a square: four corners, closed
        assert all(0 <= x <= view_box[2] for x in xs) and all(0 <= y <= view_box[3] for y in ys)
    # G02 lies north of G01: smaller y on screen.
    g01_y = max(float(n) for n in re.findall(r"[\d.]+", drawn[0][2])[1::2])
    g02_y = max(float(n) for n in re.findall(r"[\d.]+", drawn[1][2])[1::2])
    assert g02_y < g01_y
    assert "shangcheng_gridworker" in html  # the grid's worker

    township = admin.get("/org/units/T01/").content.decode()
    assert sorted(code for _, code, _ in PATH.findall(township)) == [
        "T01-C01-G01", "T01-C01-G02", "T01-C02-G01", "T01-C02-G02"]

    worker = signed_in(world, "shangcheng_gridworker")
    own = worker.get("/org/units/T01-C01-G01/").content.decode()
    assert [code for _, code, _ in PATH.findall(own)] == ["T01-C01-G01"]  # no neighbour out of scope
    for code in ("T01-C01-G02", "T01", "T01-C01", "NOPE"):
        assert worker.get(f"/org/units/{code}/").status_code == 404
    operator = signed_in(world, township_operator)
    assert operator.get("/org/units/T01-C02-G02/").status_code == 200
    assert operator.get("/org/units/T02/").status_code == 404
    assert signed_in(world, "yuhang_admin").get("/org/units/T01-C01-G01/").status_code == 404
    assert signed_in(world, "prov_admin").get("/org/units/T01/").status_code == 404


def test_a_unit_without_boundaries_says_so(world):
    with tenant_context(world.shangcheng):
        create_org_unit(code="T02-C09", name="空社区", parent=OrgUnit.objects.get(code="T02"), acting_user=None)
    page = signed_in(world, "shangcheng_admin").get("/org/units/T02-C09/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200 and "<svg" not in page.content.decode()
    assert "No grid boundary to draw yet." in page.content.decode()


def departments_in(tenant):
    with tenant_context(tenant):
        return set(Department.objects.values_list("code", flat=True))


def test_departments_are_created_by_county_admins_only(world):
    before = departments_in(world.shangcheng)
    admin = signed_in(world, "shangcheng_admin")
    page = admin.get("/org/departments/")
    assert page.status_code == 200 and "D-PSB" in page.content.decode() and 'name="code"' in page.content.decode()
    created = admin.post("/org/departments/", {"code": "D-CITYMGMT", "name": "城管局", "level": "county"})
    assert created.status_code == 302
    township = admin.post("/org/departments/", {"code": "D-T02-LAW", "name": "城西执法队", "level": "township",
                                                 "township": "T02"})
    assert township.status_code == 302
    with tenant_context(world.shangcheng):
        assert Department.objects.get(code="D-T02-LAW").township.code == "T02"
    refused = admin.post("/org/departments/", {"code": "D-X", "name": "无镇", "level": "township"})
    duplicate = admin.post("/org/departments/", {"code": "D-PSB", "name": "又一个", "level": "county"})
    assert refused.status_code == duplicate.status_code == 200
    assert refused.context["form"].errors["township"] and duplicate.context["form"].non_field_errors()
    assert departments_in(world.shangcheng) == before | {"D-CITYMGMT", "D-T02-LAW"}

    # Other roles read the list without a form and cannot post; another tenant's admin gets nothing.
    operator = signed_in(world, "shangcheng_operator")
    listing = operator.get("/org/departments/")
    assert listing.status_code == 200 and 'name="code"' not in listing.content.decode()
    assert operator.post("/org/departments/", {"code": "D-OP", "name": "x", "level": "county"}).status_code == 404
    assert signed_in(world, "shangcheng_gridworker").post(
        "/org/departments/", {"code": "D-GW", "name": "x", "level": "county"}).status_code == 404
    stranger = signed_in(world, "yuhang_admin")
    assert stranger.get("/org/departments/").status_code == 404
    assert stranger.post("/org/departments/", {"code": "D-YH", "name": "x", "level": "county"}).status_code == 404
    assert departments_in(world.shangcheng) == before | {"D-CITYMGMT", "D-T02-LAW"}
    assert "D-YH" not in departments_in(world.yuhang)


def test_staff_are_created_by_county_admins_only(world, township_operator):
    admin = signed_in(world, "shangcheng_admin")
    listing = admin.get("/org/staff/").content.decode()
    assert "shangcheng_gridworker" in listing and "yuhang_operator" not in listing
    new = {"username": "sc_worker_g02", "full_name": "王五", "password": "A long-enough password 1",
           "role": "grid_worker", "scope_org_unit": "T01-C01-G02"}
    assert admin.post("/org/staff/", new).status_code == 302
    with tenant_context(world.shangcheng):
        member = StaffProfile.objects.get(user__username="sc_worker_g02")
        assert (member.role, member.scope_kind, member.scope_org_unit.code) == ("grid_worker", "org_unit",
                                                                                 "T01-C01-G02")
    assert "sc_worker_g02" in admin.get("/org/units/T01-C01-G02/").content.decode()  # shows as the grid's worker
    handler = admin.post("/org/staff/", {"username": "sc_psb", "password": "A long-enough password 1",
                                         "role": "department_handler", "scope_department": "D-PSB"})
    assert handler.status_code == 302
    both = admin.post("/org/staff/", {**new, "username": "sc_both", "scope_department": "D-PSB"})
    taken = admin.post("/org/staff/", {**new, "username": "yuhang_operator"})
    no_dept = admin.post("/org/staff/", {**new, "username": "sc_nodept", "role": "department_handler",
                                         "scope_org_unit": ""})
    assert both.status_code == taken.status_code == no_dept.status_code == 200
    assert both.context["form"].non_field_errors() and taken.context["form"].errors["username"]
    assert no_dept.context["form"].errors["scope_department"]

    # Scoped reading for others; no creating.
    count = User.objects.count()
    township_view = signed_in(world, township_operator).get("/org/staff/").content.decode()
    assert "shangcheng_gridworker" in township_view and "sc_psb" not in township_view
    assert "shangcheng_operator" not in township_view and 'name="username"' not in township_view
    worker_view = signed_in(world, "shangcheng_gridworker").get("/org/staff/").content.decode()
    assert "shangcheng_gridworker" in worker_view and "sc_worker_g02" not in worker_view
    for username in ("shangcheng_operator", township_operator, "shangcheng_gridworker"):
        assert signed_in(world, username).post("/org/staff/", {**new, "username": "sneaky"}).status_code == 404
    stranger = signed_in(world, "yuhang_admin")
    assert stranger.get("/org/staff/").status_code == 404
    assert stranger.post("/org/staff/", {**new, "username": "sneaky"}).status_code == 404
    assert User.objects.count() == count and not User.objects.filter(username="sneaky").exists()


TREE_CSV = "code,name,parent_code\nT04,城中街道,\nT04-C01,中山社区,T04\n"
GRIDS = ('{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"code": "T01-C01-G07", '
         '"name": "幸福社区第7网格", "parent_code": "T01-C01"}, "geometry": {"type": "Polygon", "coordinates": '
         '[[[120.5, 30.5], [120.51, 30.5], [120.51, 30.51], [120.5, 30.51], [120.5, 30.5]]]}}]}')


def upload(name, text):
    return {"file": SimpleUploadedFile(name, text.encode())}


def codes_in(tenant):
    with tenant_context(tenant):
        return set(OrgUnit.objects.values_list("code", flat=True))


def test_imports_are_for_county_admins_only(world, township_operator):
    before = codes_in(world.shangcheng)
    for username in ("shangcheng_operator", township_operator, "shangcheng_gridworker", "yuhang_admin",
                     "prov_admin"):
        client = signed_in(world, username)
        assert client.get("/org/import/tree/").status_code == 404
        assert client.get("/org/import/grids/").status_code == 404
        assert client.post("/org/import/tree/", upload("t.csv", TREE_CSV)).status_code == 404
        assert client.post("/org/import/grids/", upload("g.geojson", GRIDS)).status_code == 404
    assert codes_in(world.shangcheng) == before
    assert codes_in(world.yuhang) == before  # the same demo tree there, untouched

    admin = signed_in(world, "shangcheng_admin")
    assert admin.get("/org/import/tree/").status_code == 200
    done = admin.post("/org/import/tree/", upload("t.csv", TREE_CSV))
    assert done.status_code == 302
    assert admin.post("/org/import/grids/", upload("g.geojson", GRIDS)).status_code == 302
    assert codes_in(world.shangcheng) == before | {"T04", "T04-C01", "T01-C01-G07"}

    bad = admin.post("/org/import/tree/", upload("t.csv", "code,name,parent_code\nT05,x,\nT05-C01,y,T77\n"),
                     HTTP_ACCEPT_LANGUAGE="en")
    html = bad.content.decode()
    assert bad.status_code == 200 and "Nothing was imported" in html and "T77" in html and "line 3" in html
    bad_grids = admin.post("/org/import/grids/", upload("g.geojson", '{"type": "FeatureCollection", '
                                                       '"features": [{"type": "Feature", "properties": {}, '
                                                       '"geometry": null}]}'), HTTP_ACCEPT_LANGUAGE="en")
    assert "The feature has no code property." in bad_grids.content.decode()
    assert codes_in(world.shangcheng) == before | {"T04", "T04-C01", "T01-C01-G07"}
