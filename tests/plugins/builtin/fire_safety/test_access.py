"""Who may do what: every page and endpoint, by role and by tenant; the module absent where
it is switched off (404, no navigation, no phone entry, no widgets, no jobs, no hooks) and
its data intact when switched off and on again; the import target."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django_tenants.utils import tenant_context

from civicgrid.plugins import actions as plugin_actions
from civicgrid.plugins.builtin.fire_safety import imports
from civicgrid.plugins.builtin.fire_safety.models import CheckItem, Inspection, RiskUnit
from civicgrid.plugins.builtin.fire_safety.selectors import checklist
from civicgrid.plugins.manager import tenant_hooks
from civicgrid.plugins.tasks import run_plugin_jobs

from .conftest import YUHANG, answers, client_for, make_unit, staff, switch_on

pytestmark = pytest.mark.django_db

PAGES = "test_every_page_by_role_and_tenant"
API = "test_every_endpoint_by_role_and_tenant"
ROUTES_COVERED = {
    "fire_safety:overview": PAGES, "fire_safety:unit-list": PAGES, "fire_safety:unit-detail": PAGES,
    "fire_safety:inspection-list": PAGES, "fire_safety:checklists": PAGES, "fire_safety:checklist-item": PAGES,
    "fire_safety:checklist-remove": PAGES, "fire_safety:phone-units": PAGES, "fire_safety:phone-inspect": PAGES,
    "fire_safety:phone-send": PAGES,
    "api-fire_safety:units": API, "api-fire_safety:unit-detail": API, "api-fire_safety:inspections": API,
}
READERS = ["shangcheng_admin", "shangcheng_operator", "fire_township1", "fire_auditor", "shangcheng_gridworker"]


def test_every_page_by_role_and_tenant(fire):
    with tenant_context(fire.shangcheng):
        unit = make_unit("FS-A001")
        item = checklist(unit.kind)[0]
    reads = ["/p/fire_safety/", "/p/fire_safety/units/", f"/p/fire_safety/units/{unit.pk}/",
             "/p/fire_safety/inspections/"]
    for username in READERS:
        client = client_for(fire, username)
        for url in reads:
            assert client.get(url).status_code == 200, (username, url)
    # Out of their area, or not readers: 404.
    for username in ["fire_township2", "fire_gridworker2", "fire_handler"]:
        assert client_for(fire, username).get(f"/p/fire_safety/units/{unit.pk}/").status_code == 404, username
    assert unit.code not in client_for(fire, "fire_township2").get("/p/fire_safety/units/").content.decode()
    for url in reads:
        assert client_for(fire, "fire_handler").get(url).status_code == 404
        assert client_for(fire, None).get(url).status_code == 302
        assert client_for(fire, "yuhang_operator", YUHANG).get(url).status_code == 404
    # The checklist editor: the county admin's alone.
    editor = client_for(fire, "shangcheng_admin")
    assert editor.get("/p/fire_safety/checklists/").status_code == 200
    edit = {"kind": item.kind, "text": "楼道无杂物", "category_code": "FIRE-PASSAGE", "position": "5"}
    for username in ["shangcheng_operator", "fire_auditor", "shangcheng_gridworker"]:
        client = client_for(fire, username)
        assert client.get("/p/fire_safety/checklists/").status_code == 404
        assert client.post(f"/p/fire_safety/checklists/{item.pk}/", edit).status_code == 404
        assert client.post(f"/p/fire_safety/checklists/{item.pk}/remove/").status_code == 404
        assert client.post("/p/fire_safety/checklists/", edit).status_code == 404
    assert client_for(fire, "yuhang_operator", YUHANG).post(f"/p/fire_safety/checklists/{item.pk}/", edit).status_code == 404
    with tenant_context(fire.shangcheng):
        assert CheckItem.objects.get(pk=item.pk).text != "楼道无杂物"
    assert editor.post(f"/p/fire_safety/checklists/{item.pk}/", edit).status_code == 302
    bad = editor.post("/p/fire_safety/checklists/", dict(edit, text="", category_code="HAZ-FIRE-EXIT"))
    assert bad.status_code == 400 and b"data-error-for=\"category_code\"" in bad.content
    assert b"data-error-for=\"text\"" in bad.content
    assert editor.post("/p/fire_safety/checklists/", dict(edit, text="x\x00y")).status_code == 400
    assert editor.post("/p/fire_safety/checklists/", dict(edit, text="新增检查项")).status_code == 302
    with tenant_context(fire.shangcheng):
        assert CheckItem.objects.get(pk=item.pk).text == "楼道无杂物"
        added = CheckItem.objects.get(text="新增检查项")
    assert editor.post(f"/p/fire_safety/checklists/{added.pk}/remove/").status_code == 302
    with tenant_context(fire.shangcheng):
        assert not CheckItem.objects.get(pk=added.pk).is_active
        data, files = answers(unit)
    # The phone: grid workers of the unit's grid only.
    phone = client_for(fire, "shangcheng_gridworker")
    assert phone.get("/p/fire_safety/m/").status_code == 200
    assert phone.get(f"/p/fire_safety/m/units/{unit.pk}/").status_code == 200
    for username in ["shangcheng_admin", "fire_gridworker2", "fire_auditor"]:
        client = client_for(fire, username)
        assert client.get(f"/p/fire_safety/m/units/{unit.pk}/").status_code == 404, username
        assert client.post(f"/p/fire_safety/m/units/{unit.pk}/send/", data,
                           HTTP_IDEMPOTENCY_KEY="page-key-0001").status_code == 404, username
    assert client_for(fire, "yuhang_operator", YUHANG).get("/p/fire_safety/m/").status_code == 404
    with tenant_context(fire.shangcheng):
        assert not Inspection.objects.filter(unit=unit).exists()
    # Without the script the form posts to its page; with it, JSON with the key.
    refused = phone.post(f"/p/fire_safety/m/units/{unit.pk}/", {k: v for k, v in data.items() if k != "latitude"})
    assert refused.status_code == 400 and b"data-field=\"location\" class=\"invalid\"" in refused.content
    assert phone.post(f"/p/fire_safety/m/units/{unit.pk}/", data).status_code == 302
    with tenant_context(fire.shangcheng):
        data, files = answers(unit, fail=(0,))
    sent = phone.post(f"/p/fire_safety/m/units/{unit.pk}/send/", {**data, **files}, HTTP_IDEMPOTENCY_KEY="page-key-0002")
    assert sent.status_code == 201 and sent.json()["number"].startswith("FI")
    with tenant_context(fire.shangcheng):
        data, files = answers(unit, fail=(0,))
    again = phone.post(f"/p/fire_safety/m/units/{unit.pk}/send/", {**data, **files}, HTTP_IDEMPOTENCY_KEY="page-key-0002")
    assert again.status_code == 200 and again.json()["number"] == sent.json()["number"]
    nokey = phone.post(f"/p/fire_safety/m/units/{unit.pk}/send/", data)
    assert nokey.status_code == 400 and "client_key" in nokey.json()["errors"]


def test_every_endpoint_by_role_and_tenant(fire):
    with tenant_context(fire.shangcheng):
        unit = make_unit("FS-A002")
        data, files = answers(unit)
    urls = ["/api/v1/p/fire_safety/units/", f"/api/v1/p/fire_safety/units/{unit.pk}/",
            "/api/v1/p/fire_safety/inspections/"]
    for username in READERS:
        for url in urls:
            assert client_for(fire, username).get(url).status_code == 200, (username, url)
    for url in urls:
        assert client_for(fire, "fire_handler").get(url).status_code == 404
        assert client_for(fire, "yuhang_operator", YUHANG).get(url).status_code == 404
        assert client_for(fire, None).get(url).status_code in (401, 403)
    assert client_for(fire, "fire_township2").get(urls[1]).status_code == 404
    assert client_for(fire, "fire_township2").get(urls[0]).json()["count"] == 0
    post = {"unit": unit.pk, **data}
    for username in ["shangcheng_admin", "fire_gridworker2", "fire_auditor"]:
        assert client_for(fire, username).post(urls[2], post, HTTP_IDEMPOTENCY_KEY="api-key-a0001").status_code == 404
    with tenant_context(fire.shangcheng):
        assert not Inspection.objects.exists()
    bad_filter = client_for(fire, "shangcheng_admin").get(urls[0] + "?kind=castle")
    assert bad_filter.status_code == 400


def test_absent_where_switched_off_and_data_kept_when_switched_off_and_on(fire):
    with tenant_context(fire.shangcheng):
        unit = make_unit("FS-A003")
        data, files = answers(unit, fail=(0,))
        from civicgrid.plugins.builtin.fire_safety import actions

        actions.inspect_unit(staff=staff("shangcheng_gridworker"), unit_id=unit.pk, data=data, files=files,
                             client_key="onoff-key-0001")
    # 余杭区 never had it: no pages, no navigation, no phone button, no widgets, no jobs, no hooks.
    with tenant_context(fire.yuhang):
        hooks = tenant_hooks()
        assert "fire_safety" not in hooks.active
        assert hooks.collect("civicgrid_console_nav", staff=staff("yuhang_operator")) == []
        cache.clear()
        assert not any(name.startswith("fire_safety") for name in run_plugin_jobs.run())
    home = client_for(fire, "yuhang_operator", YUHANG).get("/").content.decode()
    assert "/p/fire_safety/" not in home
    assert "/p/fire_safety/" not in client_for(fire, "yuhang_operator", YUHANG).get("/m/").content.decode()
    # 上城区 has it: navigation, the phone's button, the widgets, the job.
    assert "/p/fire_safety/units/" in client_for(fire, "shangcheng_admin").get("/").content.decode()
    assert "/p/fire_safety/m/" in client_for(fire, "shangcheng_gridworker").get("/m/").content.decode()
    with tenant_context(fire.shangcheng):
        cache.clear()
        assert "fire_safety:risk-levels" in run_plugin_jobs.run()
    plugin_actions.disable_plugin(tenant=fire.shangcheng, plugin_id="fire_safety", acting_user=None)
    for url in ["/p/fire_safety/units/", "/api/v1/p/fire_safety/units/", "/p/fire_safety/m/"]:
        assert client_for(fire, "shangcheng_admin").get(url).status_code == 404
    assert "/p/fire_safety/" not in client_for(fire, "shangcheng_admin").get("/").content.decode()
    with tenant_context(fire.shangcheng):
        cache.clear()
        assert not any(name.startswith("fire_safety") for name in run_plugin_jobs.run())
        from civicgrid.platform.cases.models import Category

        assert not Category.objects.get(code="FIRE-PASSAGE").is_active
    switch_on(fire)
    with tenant_context(fire.shangcheng):
        assert RiskUnit.objects.filter(code="FS-A003").exists() and Inspection.objects.filter(unit__code="FS-A003").count() == 1
        assert CheckItem.objects.filter(kind="rental_house").count() == len(checklist("rental_house"))  # not seeded twice
    assert client_for(fire, "shangcheng_admin").get(f"/p/fire_safety/units/{unit.pk}/").status_code == 200


class Context:
    @staticmethod
    def grid_id(code):
        from civicgrid.plugins.builtin.fire_safety.actions import grid_by_code

        return grid_by_code(code)


def test_the_import_target_cleans_compares_and_applies(fire):
    with tenant_context(fire.shangcheng):
        row = {"code": "FS-I001", "name": "城东群租房", "kind": "群租房", "address": "东路2号", "grid": "T01-C01-G01",
               "latitude": "30.2451", "longitude": "120.1751", "contact_name": "李", "contact_phone": "0571-8888888"}
        clean = imports.clean(row, Context)
        assert clean["kind"] == "rental_house" and clean["latitude"] == "30.245100"
        for bad, field in [({"kind": "castle"}, "kind"), ({"grid": "NOPE"}, "grid"), ({"code": ""}, "code"),
                           ({"name": "a\x00b"}, "name"), ({"latitude": "91"}, "latitude"),
                           ({"longitude": ""}, "latitude"), ({"contact_phone": "call me"}, "contact_phone"),
                           ({"code": "has space"}, "code"), ({"building": "NO-SUCH"}, "building")]:
            with pytest.raises(ValidationError) as refused:
                imports.clean(dict(row, **bad), Context)
            assert field in refused.value.message_dict, (bad, refused.value.message_dict)
        assert imports.current(["FS-I001"]) == {}
        imports.apply([clean], [], actor=None)
        assert imports.current(["FS-I001"]) == {"FS-I001": clean}
        changed = imports.clean(dict(row, name="城东群租房（新）"), Context)
        imports.apply([], [changed], actor=None)
        assert RiskUnit.objects.get(code="FS-I001").name == "城东群租房（新）"
        assert imports.current(["FS-I001"])["FS-I001"] == changed
