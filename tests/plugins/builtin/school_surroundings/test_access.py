"""Who gets what: every page and endpoint of the module for each role, for another county's
staff, and in a county that has the module off (404 everywhere, no navigation, no hooks, no
jobs). Switched off and on again, its data is all there."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.urls import reverse
from django_tenants.utils import tenant_context

from civicgrid.platform.cases.models import Category
from civicgrid.platform.console.navigation import console_navigation
from civicgrid.plugins import actions as plugin_actions
from civicgrid.plugins.builtin.school_surroundings.models import PatrolCheckIn, PatrolSlot, School
from civicgrid.plugins.manager import tenant_hooks
from civicgrid.plugins.tasks import run_plugin_jobs

from .helpers import PLUGIN, SHANGCHENG, YUHANG, client, everyone, make_school, slot_around_now, switch_on

PAGES = "test_every_page_and_endpoint_for_every_role_and_tenant"
ROUTES_COVERED = {
    "school_surroundings:school-list": PAGES,
    "school_surroundings:school-create": PAGES,
    "school_surroundings:school-detail": PAGES,
    "school_surroundings:school-edit": PAGES,
    "school_surroundings:rota": PAGES,
    "school_surroundings:slot-edit": PAGES,
    "school_surroundings:slot-remove": PAGES,
    "school_surroundings:duty": PAGES,
    "school_surroundings:checkin": PAGES,
    "api-school_surroundings:schools": PAGES,
    "api-school_surroundings:school-detail": PAGES,
    "api-school_surroundings:checkins": PAGES,
}


def state() -> tuple:
    return (sorted(School.objects.values_list("code", "name", "radius_m")),
            sorted(PatrolSlot.objects.values_list("pk", "is_active", "weekdays", "starts_at")),
            PatrolCheckIn.objects.count())


def requests_for(school, slot) -> list[tuple[str, str, str, dict]]:
    """(route, method, url, data): every route, each way it can change something."""
    pk, slot_pk = school.pk, slot.pk
    base = "/p/school_surroundings"
    return [
        ("school-list", "get", f"{base}/", {}),
        ("school-create", "get", f"{base}/schools/new/", {}),
        ("school-create", "post", f"{base}/schools/new/", {"code": "X-1", "name": "x", "kind": "primary",
                                                           "address": "x", "grid": "T01-C01-G01",
                                                           "latitude": "30.245", "longitude": "120.175",
                                                           "pupils": "1", "radius_m": "200"}),
        ("school-detail", "get", f"{base}/schools/{pk}/", {}),
        ("school-edit", "get", f"{base}/schools/{pk}/edit/", {}),
        ("school-edit", "post", f"{base}/schools/{pk}/edit/", {"code": school.code, "name": "改名", "kind": "primary",
                                                               "address": "x", "grid": "T01-C01-G01",
                                                               "latitude": "30.245", "longitude": "120.175",
                                                               "pupils": "1", "radius_m": "300"}),
        ("rota", "get", f"{base}/schools/{pk}/rota/", {}),
        ("rota", "post", f"{base}/schools/{pk}/rota/", {"weekdays": ["1"], "starts_at": "07:00", "ends_at": "08:00"}),
        ("slot-edit", "get", f"{base}/schools/{pk}/rota/{slot_pk}/", {}),
        ("slot-edit", "post", f"{base}/schools/{pk}/rota/{slot_pk}/", {"weekdays": ["1"], "starts_at": "06:00",
                                                                       "ends_at": "07:00"}),
        ("slot-remove", "post", f"{base}/schools/{pk}/rota/{slot_pk}/remove/", {}),
        ("duty", "get", f"{base}/duty/", {}),
        ("checkin", "get", f"{base}/checkin/", {}),
        ("checkin", "post", f"{base}/checkin/", {"slot": slot_pk, "latitude": "30.2455", "longitude": "120.175",
                                                 "device_key": "abcdefgh-123"}),
        ("api-schools", "get", "/api/v1/p/school_surroundings/schools/", {}),
        ("api-school-detail", "get", f"/api/v1/p/school_surroundings/schools/{pk}/", {}),
        ("api-checkins", "get", "/api/v1/p/school_surroundings/checkins/", {}),
        ("api-checkins", "post", "/api/v1/p/school_surroundings/checkins/", {
            "slot": slot_pk, "latitude": 30.2455, "longitude": 120.175, "device_key": "abcdefgh-456"}),
    ]


# Which roles may use each route (everyone else: 404).
VIEW = {"admin", "operator", "township", "community", "auditor"}
ALLOWED = {
    "school-list": VIEW, "school-detail": VIEW, "duty": VIEW, "api-schools": VIEW, "api-school-detail": VIEW,
    "school-create": {"admin"}, "school-edit": {"admin"},
    "rota": {"admin", "operator", "township"}, "slot-edit": {"admin", "operator", "township"},
    "slot-remove": {"admin", "operator", "township"},
    "checkin": {"gridworker", "township"},
    "api-checkins": VIEW | {"gridworker", "township"},
}


def status_of(c, method, url, data):
    if url.startswith("/api/") and method == "post":
        return c.post(url, data, content_type="application/json").status_code
    return getattr(c, method)(url, data).status_code


def test_every_page_and_endpoint_for_every_role_and_tenant(world):
    for name in ROUTES_COVERED:
        assert reverse(name, kwargs={"pk": 1, "slot_pk": 1} if "slot" in name else
                       {"pk": 1} if name.endswith("detail") or name.endswith("edit") or name.endswith(":rota")
                       else {})
    switch_on(world)
    with tenant_context(world.shangcheng):
        roles = everyone()
        school = make_school()
        slot = slot_around_now(school, [roles["gridworker"], roles["township"]])
        other = make_school(code="T-S-T02", at=(30.245, 120.195), grid="T02-C01-G01", name="城西小学")
        other_slot = slot_around_now(other, [roles["other_township"]])
        before = state()
    requests = requests_for(school, slot)

    # Another county's staff, anonymous callers, and the module's own county with the wrong role.
    for username, host in [("yuhang_operator", SHANGCHENG), ("yuhang_admin", SHANGCHENG),
                           ("shangcheng_admin", YUHANG), ("yuhang_admin", YUHANG), ("yuhang_operator", YUHANG)]:
        c = client(world, username, host)
        for route, method, url, data in requests:
            assert status_of(c, method, url, data) == 404, (username, host, route, method)
    for route, method, url, data in requests:
        answer = status_of(client(world, None), method, url, data)
        assert answer in (302, 401, 403), (route, method, answer)  # sign in first
    connection.set_schema_to_public()
    with tenant_context(world.shangcheng):
        assert state() == before
        usernames = {role: profile.user.username for role, profile in roles.items()}

    for role, username in usernames.items():
        c = client(world, username)
        for route, method, url, data in requests:
            if method == "post" and role in ALLOWED[route]:
                continue  # the refusals are what this test is about; the allowed writes have their own tests
            expected_ok = role in ALLOWED[route]
            if role == "other_township":  # a township operator elsewhere: their own (empty) lists only
                expected_ok = method == "get" and route in {"school-list", "duty", "checkin", "api-schools",
                                                             "api-checkins"}
            answer = status_of(c, method, url, data)
            assert (answer != 404) == expected_ok, (role, route, method, answer)
        with tenant_context(world.shangcheng):
            assert state() == before, role

    # Inside the county, another township's school is not found for a township's operator.
    c = client(world, usernames["township"])
    for url in (f"/p/school_surroundings/schools/{other.pk}/", f"/p/school_surroundings/schools/{other.pk}/rota/",
                f"/p/school_surroundings/schools/{other.pk}/rota/{other_slot.pk}/",
                f"/api/v1/p/school_surroundings/schools/{other.pk}/"):
        assert c.get(url).status_code == 404, url
    assert c.post(f"/p/school_surroundings/schools/{other.pk}/rota/{other_slot.pk}/remove/").status_code == 404
    # A slot named under another school's address is not found either.
    assert client(world, usernames["admin"]).get(
        f"/p/school_surroundings/schools/{school.pk}/rota/{other_slot.pk}/").status_code == 404
    with tenant_context(world.shangcheng):
        assert state() == before


def test_absent_where_switched_off_and_back_with_its_data(world):
    switch_on(world)
    with tenant_context(world.shangcheng):
        roles = everyone()
        school = make_school()
        slot = slot_around_now(school, [roles["gridworker"]])
        assert Category.objects.get(code="SCHOOL-VENDORS").is_active
        assert {e.label for e in tenant_hooks().collect("civicgrid_console_nav", staff=roles["operator"])} >= {
            "Schools and surroundings"} or tenant_hooks().collect("civicgrid_console_nav", staff=roles["operator"])
        assert PLUGIN in tenant_hooks().active
    # 余杭区 has it off: no pages, no navigation, no widget, no hooks, no jobs.
    with tenant_context(world.yuhang):
        hooks = tenant_hooks()
        assert PLUGIN not in hooks.active
        from tests.plugins.builtin.school_surroundings.helpers import staff

        operator = staff("yuhang_operator")
        assert hooks.collect("civicgrid_console_nav", staff=operator) == []
        assert hooks.collect("civicgrid_dashboard_widgets", staff=operator) == []
        assert hooks.collect("civicgrid_phone_entries", staff=operator) == []
        assert not [s for s in console_navigation(operator, "/", hooks.collect("civicgrid_console_nav", staff=operator))
                    for link in s.links if "school_surroundings" in link.url]
        cache.clear()
        assert not [job for job in run_plugin_jobs.run() if job.startswith(PLUGIN)]
        assert not Category.objects.filter(code__startswith="SCHOOL").exists()
    home = client(world, "yuhang_operator", YUHANG).get("/")
    assert home.status_code == 200 and b"school_surroundings" not in home.content
    home = client(world, "shangcheng_operator").get("/")
    assert b"/p/school_surroundings/" in home.content  # navigation and the widget where it is on

    connection.set_schema_to_public()
    plugin_actions.disable_plugin(tenant=world.shangcheng, plugin_id=PLUGIN, acting_user=None)
    operator = client(world, "shangcheng_operator")
    assert operator.get("/p/school_surroundings/").status_code == 404
    assert operator.get(f"/api/v1/p/school_surroundings/schools/{school.pk}/").status_code == 404
    assert b"/p/school_surroundings/" not in operator.get("/").content
    with tenant_context(world.shangcheng):
        assert not Category.objects.get(code="SCHOOL-VENDORS").is_active
        assert School.objects.filter(pk=school.pk).exists() and PatrolSlot.objects.filter(pk=slot.pk).exists()
        assert PLUGIN not in tenant_hooks().active

    connection.set_schema_to_public()
    plugin_actions.enable_plugin(tenant=world.shangcheng, plugin_id=PLUGIN, acting_user=None)
    page = operator.get(f"/p/school_surroundings/schools/{school.pk}/")
    assert page.status_code == 200 and school.name in page.content.decode()
    with tenant_context(world.shangcheng):
        assert Category.objects.get(code="SCHOOL-VENDORS").is_active
        assert list(PatrolSlot.objects.filter(pk=slot.pk).values_list("patrollers__user__username", flat=True)) == [
            "shangcheng_gridworker"]


@pytest.mark.parametrize("path", ["/api/schema/"])
def test_the_api_is_in_the_openapi_schema(world, path):
    content = client(world, None).get(path).content.decode()
    for url in ("/api/v1/p/school_surroundings/schools/", "/api/v1/p/school_surroundings/schools/{id}/",
                "/api/v1/p/school_surroundings/checkins/"):
        assert url in content, url
    assert "school_surroundings_checkins_create" in content


def test_an_api_token_needs_the_modules_scope(world):
    """module:school_surroundings:read reads schools; the core's scopes do not; the token's
    account still decides (a grid worker sees no schools); another county's token is unknown."""
    from tests.platform.security.test_api_tokens import bearer, issue

    switch_on(world)
    with tenant_context(world.shangcheng):
        make_school("T-S801")
    schools, checkins = "/api/v1/p/school_surroundings/schools/", "/api/v1/p/school_surroundings/checkins/"
    _row, core = issue(world, "cases:read", "cases:write", "org:read")
    refused = bearer(core).get(schools)
    assert refused.status_code == 403 and "module:school_surroundings:read" in refused.json()["detail"]
    _row, reader = issue(world, "module:school_surroundings:read")
    listed = bearer(reader).get(schools)
    assert listed.status_code == 200 and "T-S801" in [s["code"] for s in listed.json()["results"]]
    refused = bearer(reader).post(checkins, {"slot": 1}, content_type="application/json")
    assert refused.status_code == 403 and "module:school_surroundings:write" in refused.json()["detail"]
    _row, worker = issue(world, "module:school_surroundings:read", user="shangcheng_gridworker")
    assert bearer(worker).get(schools).status_code == 404
    switch_on(world, tenant=world.yuhang)
    _row, yuhang = issue(world, "module:school_surroundings:read", user="yuhang_operator", tenant=world.yuhang)
    assert bearer(yuhang).get(schools).status_code == 401 and bearer(reader, YUHANG).get(schools).status_code == 401
    with tenant_context(world.shangcheng):
        assert PatrolCheckIn.objects.count() == 0
