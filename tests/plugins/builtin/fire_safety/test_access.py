"""Who may do what: every page and endpoint, by role and by tenant; the module absent where
it is switched off (404, no navigation, no phone entry, no widgets, no jobs, no hooks) and
its data intact when switched off and on again; the import target."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection
from django_tenants.utils import tenant_context

from civicgrid.plugins import actions as plugin_actions
from civicgrid.plugins.builtin.fire_safety import imports
from civicgrid.plugins.builtin.fire_safety.models import CheckItem, Hazard, Inspection, RiskUnit
from civicgrid.plugins.builtin.fire_safety.selectors import checklist
from civicgrid.plugins.manager import tenant_hooks
from civicgrid.plugins.models import UsageRecord
from civicgrid.plugins.tasks import run_plugin_jobs

from .conftest import SHANGCHENG, YUHANG, answers, client_for, make_unit, staff, switch_on

pytestmark = pytest.mark.django_db

PAGES = "test_every_page_by_role_and_tenant"
API = "test_every_endpoint_by_role_and_tenant"
ROUTES_COVERED = {
    "fire_safety:overview": PAGES, "fire_safety:unit-list": PAGES, "fire_safety:unit-detail": PAGES,
    "fire_safety:inspection-list": PAGES, "fire_safety:checklists": PAGES, "fire_safety:checklist-item": PAGES,
    "fire_safety:checklist-remove": PAGES, "fire_safety:phone-units": PAGES, "fire_safety:phone-inspect": PAGES,
    "fire_safety:phone-send": PAGES,
    "fire_safety:unit-new": "test_registering_a_unit_by_role_and_tenant",
    "fire_safety:unit-edit": "test_editing_a_unit_by_role_scope_and_tenant",
    "fire_safety:inspection-photo": "test_a_failed_items_photo_by_role_scope_and_tenant",
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
    # Without the script the form posts to its page what such a browser has: the hidden key and
    # the mark of a page without script, the position typed or left out; with it, JSON with the key.
    page = phone.get(f"/p/fire_safety/m/units/{unit.pk}/").content.decode()
    plain = {**_hidden_fields(page), **{k: v for k, v in data.items() if k not in ("latitude", "longitude")}}
    assert plain["without_script"] == "1" and plain["latitude"] == plain["longitude"] == ""
    half = phone.post(f"/p/fire_safety/m/units/{unit.pk}/", dict(plain, latitude="30.245"))
    assert half.status_code == 400 and b"data-field=\"location\" class=\"invalid\"" in half.content
    with tenant_context(fire.shangcheng):
        assert not Inspection.objects.filter(unit=unit).exists()
    assert phone.post(f"/p/fire_safety/m/units/{unit.pk}/", plain).status_code == 302
    with tenant_context(fire.shangcheng):
        stored = Inspection.objects.get(unit=unit)
        assert stored.latitude is None and stored.client_key == plain["client_key"]
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


def _hidden_fields(page: str) -> dict:
    """What a browser without script sends of the phone form besides the answers: its hidden
    fields and the (empty) typed position."""
    fields = {}
    for tag in re.findall(r"<input[^>]*>", page[page.index("data-offline-form"):]):
        name, value = re.search(r'name="([^"]+)"', tag), re.search(r'value="([^"]*)"', tag)
        if name and ('type="hidden"' in tag or name.group(1) in ("latitude", "longitude")):
            fields[name.group(1)] = value.group(1) if value else ""
    return fields


def test_a_plain_form_posted_twice_with_its_hidden_key_is_one_inspection(fire):
    with tenant_context(fire.shangcheng):
        unit = make_unit("FS-A009")
        data, files = answers(unit, fail=(0,))
    phone = client_for(fire, "shangcheng_gridworker")
    page = phone.get(f"/p/fire_safety/m/units/{unit.pk}/").content.decode()
    hidden = _hidden_fields(page)
    assert re.fullmatch(r"[0-9a-f-]{36}", hidden["client_key"])
    # Each showing of the form has its own key.
    assert _hidden_fields(phone.get(f"/p/fire_safety/m/units/{unit.pk}/").content.decode())["client_key"] != \
        hidden["client_key"]
    # A double tap: the same form, typed position and all, posted twice.
    plain = {**hidden, **data, "latitude": "30.245000", "longitude": "120.175000"}
    for _ in range(2):
        with tenant_context(fire.shangcheng):
            _data, files = answers(unit, fail=(0,))
        assert phone.post(f"/p/fire_safety/m/units/{unit.pk}/", {**plain, **files}).status_code == 302
    with tenant_context(fire.shangcheng):
        stored = Inspection.objects.get(unit=unit)
        assert stored.client_key == hidden["client_key"] and str(stored.latitude) == "30.245000"
        assert Hazard.objects.filter(unit=unit).count() == 1
    assert UsageRecord.objects.filter(tenant=fire.shangcheng, plugin_id="fire_safety").count() == 1
    # Refused, the form comes back with the same key: corrected and sent, still one per key.
    fresh = _hidden_fields(phone.get(f"/p/fire_safety/m/units/{unit.pk}/").content.decode())
    wrong = phone.post(f"/p/fire_safety/m/units/{unit.pk}/", {**fresh, **data})  # no photo of the failed item
    assert wrong.status_code == 400
    again = _hidden_fields(wrong.content.decode())
    assert again["client_key"] == fresh["client_key"] and again["latitude"] == data["latitude"]
    # Without the mark of a page without script (the script's way), the position stays required.
    scripted = {k: v for k, v in {**hidden, **data}.items() if k not in ("without_script", "latitude", "longitude")}
    scripted["client_key"] = "another-key-0001"
    refused = phone.post(f"/p/fire_safety/m/units/{unit.pk}/", scripted)
    assert refused.status_code == 400 and b"data-field=\"location\" class=\"invalid\"" in refused.content
    with tenant_context(fire.shangcheng):
        assert Inspection.objects.filter(unit=unit).count() == 1


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


# --- registering and editing units; the photo of a failed item -----------------------------

UNIT = {"code": "FS-N001", "name": "城东小旅馆", "kind": "small_lodging", "address": "东路8号", "grid": "T01-C01-G01",
        "building": "", "latitude": "30.245200", "longitude": "120.175200", "contact_name": "陈老板",
        "contact_phone": "0571-8765432", "is_active": "on"}


def _community_operator():
    from civicgrid.platform.accounts.actions import create_staff_member
    from civicgrid.platform.accounts.staff.models import StaffProfile, StaffRole
    from civicgrid.platform.org.models import OrgUnit

    if not StaffProfile.objects.filter(user__username="fire_community2").exists():
        create_staff_member(username="fire_community2", password="x" * 12, role=StaffRole.COMMUNITY_OPERATOR,
                            scope_org_unit=OrgUnit.objects.get(code="T02-C01"), acting_user=None)


def _audits(action):
    from civicgrid.platform.audit.models import AuditEntry

    return AuditEntry.objects.filter(action=action)


def _snapshot():
    return sorted(RiskUnit.objects.values_list("code", "name", "grid__code", "is_active", "address"))


def test_registering_a_unit_by_role_and_tenant(fire):
    with tenant_context(fire.shangcheng):
        _community_operator()
    # Those who may not: 404 on the page and on the post, nothing stored, no link.
    for username, host in [("fire_auditor", SHANGCHENG), ("shangcheng_gridworker", SHANGCHENG),
                           ("fire_handler", SHANGCHENG), ("yuhang_operator", YUHANG)]:
        client = client_for(fire, username, host)
        assert client.get("/p/fire_safety/units/new/").status_code == 404, username
        assert client.post("/p/fire_safety/units/new/", UNIT).status_code == 404, username
    assert client_for(fire, None).post("/p/fire_safety/units/new/", UNIT).status_code == 302
    assert "/p/fire_safety/units/new/" not in client_for(fire, "fire_auditor").get("/p/fire_safety/units/").content.decode()
    with tenant_context(fire.shangcheng):
        assert not RiskUnit.objects.filter(code="FS-N001").exists()
        assert not _audits("fire_safety.unit.create").exists()
    with tenant_context(fire.yuhang):
        assert not RiskUnit.objects.exists()
    # A community operator in T02-C01 may not put a unit in T01's grid: the grid is not theirs.
    community = client_for(fire, "fire_community2")
    form = community.get("/p/fire_safety/units/new/").content.decode()
    assert 'value="T02-C01-G01"' in form and 'value="T01-C01-G01"' not in form
    outside = community.post("/p/fire_safety/units/new/", UNIT)
    assert outside.status_code == 400 and b'data-error-for="grid"' in outside.content
    with tenant_context(fire.shangcheng):
        assert not RiskUnit.objects.filter(code="FS-N001").exists()
    # The county admin, the command centre and the operators of the grid's area may.
    for number, username in enumerate(["shangcheng_admin", "shangcheng_operator", "fire_township1"]):
        client = client_for(fire, username)
        assert 'href="/p/fire_safety/units/new/"' in client.get("/p/fire_safety/units/").content.decode(), username
        assert client.get("/p/fire_safety/units/new/").status_code == 200
        made = client.post("/p/fire_safety/units/new/", dict(UNIT, code=f"FS-N00{number + 1}"))
        assert made.status_code == 302, (username, made.content.decode()[:2000])
        with tenant_context(fire.shangcheng):
            unit = RiskUnit.objects.get(code=f"FS-N00{number + 1}")
            assert made["Location"] == f"/p/fire_safety/units/{unit.pk}/"
            assert (unit.name, unit.kind, unit.grid.code, str(unit.latitude), unit.contact_phone, unit.is_active,
                    unit.source) == ("城东小旅馆", "small_lodging", "T01-C01-G01", "30.245200", "0571-8765432", True,
                                     "console")
            entry = _audits("fire_safety.unit.create").get(target_id=str(unit.pk))
            assert entry.actor_label == username and entry.data["code"] == unit.code
    made = community.post("/p/fire_safety/units/new/", dict(UNIT, code="FS-N009", grid="T02-C01-G01"))
    assert made.status_code == 302
    with tenant_context(fire.shangcheng):
        assert RiskUnit.objects.get(code="FS-N009").grid.code == "T02-C01-G01"


def test_the_unit_form_refuses_bad_input(fire):
    with tenant_context(fire.shangcheng):
        from civicgrid.platform.org.models import OrgUnit
        from civicgrid.platform.registry.models import Building

        make_unit("FS-N100")
        Building.objects.create(code="B-T01-1", address="东路8号1幢", grid=OrgUnit.objects.get(code="T01-C01-G01"))
        Building.objects.create(code="B-T02-1", address="西路1号", grid=OrgUnit.objects.get(code="T02-C01-G01"))
        before, audits = _snapshot(), _audits("fire_safety.unit.create").count()
    admin, township = client_for(fire, "shangcheng_admin"), client_for(fire, "fire_township1")
    cases = [
        (admin, {"code": "FS-N100"}, "code", "A unit with the code FS-N100 is registered already."),
        (admin, {"code": "has space"}, "code", "letters, digits"),
        (admin, {"code": ""}, "code", "This field is required."),
        (admin, {"grid": "NOPE-G99"}, "grid", "Select a valid choice."),
        (township, {"grid": "T02-C01-G01"}, "grid", "Select a valid choice."),
        (township, {"building": "B-T02-1"}, "building", "There is no building with the code B-T02-1."),
        (admin, {"building": "NO-SUCH"}, "building", "There is no building with the code NO-SUCH."),
        (admin, {"latitude": "91"}, "latitude", "less than or equal to 90"),
        (admin, {"longitude": "east"}, "longitude", "Enter a number."),
        (admin, {"longitude": ""}, "latitude", "Give both latitude and longitude, or neither."),
        (admin, {"kind": "castle"}, "kind", "Select a valid choice."),
        (admin, {"contact_phone": "call me"}, "contact_phone", "A phone number is digits, spaces, + or -."),
        (admin, {"name": "x" * 101}, "name", "at most 100 characters"),
    ]
    for client, bad, field, message in cases:
        answer = client.post("/p/fire_safety/units/new/", dict(UNIT, **bad))
        page = answer.content.decode()
        assert answer.status_code == 400, bad
        assert f'data-error-for="{field}"' in page and message.replace("'", "&#x27;") in page, (bad, page[:3000])
    # A NUL character is refused before any view, as everywhere on the platform (the security
    # middleware: 400, nothing changed, in the user's language), posted as a form or multipart;
    # the action refuses it too when called directly.
    for bad in [{"name": "城东\x00旅馆"}, {"address": "\x00"}, {"code": "FS\x00N"}]:
        answer = admin.post("/p/fire_safety/units/new/", dict(UNIT, **bad))
        assert answer.status_code == 400 and "NUL character (U+0000)" in answer.content.decode(), bad
        answer = admin.post("/p/fire_safety/units/new/", urlencode(dict(UNIT, **bad)),
                            content_type="application/x-www-form-urlencoded")
        assert answer.status_code == 400
    chinese = client_for(fire, "shangcheng_admin")
    chinese.defaults.pop("HTTP_ACCEPT_LANGUAGE")
    answer = chinese.post("/p/fire_safety/units/new/", dict(UNIT, name="城东\x00旅馆"))
    assert answer.status_code == 400 and "空字符（U+0000）" in answer.content.decode()
    with tenant_context(fire.shangcheng):
        from civicgrid.plugins.builtin.fire_safety import actions

        with pytest.raises(ValidationError) as refused:
            actions.save_unit(staff=staff("shangcheng_admin"), values=dict(UNIT, name="城东\x00旅馆", grid="T01-C01-G01"))
        assert "name" in refused.value.message_dict
        assert _snapshot() == before and _audits("fire_safety.unit.create").count() == audits
    # A building in the township's own grid is taken.
    assert township.post("/p/fire_safety/units/new/", dict(UNIT, code="FS-N101", building="B-T01-1")).status_code == 302
    with tenant_context(fire.shangcheng):
        assert RiskUnit.objects.get(code="FS-N101").building.code == "B-T01-1"


def test_editing_a_unit_by_role_scope_and_tenant(fire):
    with tenant_context(fire.shangcheng):
        _community_operator()
        unit = make_unit("FS-E001")
        make_unit("FS-E002")
        before = _snapshot()
    url = f"/p/fire_safety/units/{unit.pk}/edit/"
    changed = dict(UNIT, code="FS-E001", name="改名后的单位", address="新地址9号")
    for username, host in [("fire_auditor", SHANGCHENG), ("shangcheng_gridworker", SHANGCHENG),
                           ("fire_handler", SHANGCHENG), ("fire_township2", SHANGCHENG),
                           ("fire_community2", SHANGCHENG), ("yuhang_operator", YUHANG)]:
        client = client_for(fire, username, host)
        assert client.get(url).status_code == 404, username
        assert client.post(url, changed).status_code == 404, username
    assert client_for(fire, "yuhang_operator", YUHANG).post("/p/fire_safety/units/999999/edit/", changed).status_code == 404
    assert f'href="{url}"' not in client_for(fire, "fire_auditor").get(f"/p/fire_safety/units/{unit.pk}/").content.decode()
    with tenant_context(fire.shangcheng):
        assert _snapshot() == before and not _audits("fire_safety.unit.update").exists()
    township = client_for(fire, "fire_township1")
    page = township.get(f"/p/fire_safety/units/{unit.pk}/").content.decode()
    assert f'href="{url}"' in page
    form = township.get(url).content.decode()
    assert 'value="FS-E001"' in form and "checked" in form
    # Bad input: 400, nothing changes (a code another unit holds, a grid out of the township).
    for bad, field in [({"code": "FS-E002"}, "code"), ({"grid": "T02-C01-G01"}, "grid"),
                       ({"latitude": "30.1", "longitude": "500"}, "longitude"), ({"name": "\x00"}, None)]:
        answer = township.post(url, dict(changed, **bad))
        assert answer.status_code == 400, bad
        assert (f'data-error-for="{field}"' if field else "NUL character (U+0000)") in answer.content.decode(), bad
    with tenant_context(fire.shangcheng):
        assert _snapshot() == before and not _audits("fire_safety.unit.update").exists()
    assert township.post(url, changed).status_code == 302
    with tenant_context(fire.shangcheng):
        unit.refresh_from_db()
        assert (unit.name, unit.address, unit.is_active) == ("改名后的单位", "新地址9号", True)
        entry = _audits("fire_safety.unit.update").get(target_id=str(unit.pk))
        assert entry.actor_label == "fire_township1" and set(entry.data["changed"]) == {
            "name", "address", "kind", "latitude", "longitude", "contact_name", "contact_phone"}
    # Retiring = unticking "in use": the unit leaves the list, its page stays; ticked again it is back.
    admin = client_for(fire, "shangcheng_admin")
    retired = {k: v for k, v in changed.items() if k != "is_active"}
    assert admin.post(url, retired).status_code == 302
    with tenant_context(fire.shangcheng):
        assert not RiskUnit.objects.get(pk=unit.pk).is_active
        assert _audits("fire_safety.unit.update").count() == 2
    assert "FS-E001" not in admin.get("/p/fire_safety/units/").content.decode()
    assert "FS-E001" in admin.get("/p/fire_safety/units/?retired=1").content.decode()
    assert admin.get(f"/p/fire_safety/units/{unit.pk}/").status_code == 200
    # The code may be corrected, to one no other unit holds.
    assert client_for(fire, "shangcheng_operator").post(url, dict(changed, code="FS-E001A")).status_code == 302
    with tenant_context(fire.shangcheng):
        unit.refresh_from_db()
        assert unit.code == "FS-E001A" and unit.is_active


def test_a_failed_items_photo_by_role_scope_and_tenant(fire):
    from civicgrid.plugins.builtin.fire_safety import actions
    from civicgrid.plugins.builtin.fire_safety.models import ItemResult

    with tenant_context(fire.shangcheng):
        unit, other = make_unit("FS-P001"), make_unit("FS-P002")
        data, files = answers(unit, fail=(0,))
        inspection, _ = actions.inspect_unit(staff=staff("shangcheng_gridworker"), unit_id=unit.pk, data=data,
                                             files=files, client_key="photo-key-0001")
        failed = inspection.results.get(result="fail")
        passed = inspection.results.filter(result="pass").first()
        assert failed.photo
    url = f"/p/fire_safety/units/{unit.pk}/photos/{failed.pk}/"
    for username in READERS:
        client = client_for(fire, username)
        answer = client.get(url)
        assert answer.status_code == 200 and answer["Content-Type"] == "image/jpeg", username
        assert b"".join(answer.streaming_content).startswith(b"\xff\xd8")
        assert answer["X-Content-Type-Options"] == "nosniff"
    assert f'href="{url}"' in client_for(fire, "shangcheng_admin").get(f"/p/fire_safety/units/{unit.pk}/").content.decode()
    for username, host in [("fire_township2", SHANGCHENG), ("fire_gridworker2", SHANGCHENG),
                           ("fire_handler", SHANGCHENG), ("yuhang_operator", YUHANG)]:
        assert client_for(fire, username, host).get(url).status_code == 404, username
    assert client_for(fire, None).get(url).status_code == 302
    admin = client_for(fire, "shangcheng_admin")
    assert admin.get(f"/p/fire_safety/units/{other.pk}/photos/{failed.pk}/").status_code == 404  # not this unit's
    assert admin.get(f"/p/fire_safety/units/{unit.pk}/photos/{passed.pk}/").status_code == 404  # no photo
    assert admin.get(f"/p/fire_safety/units/{unit.pk}/photos/999999/").status_code == 404
    with tenant_context(fire.shangcheng):
        assert ItemResult.objects.filter(pk=failed.pk, photo=failed.photo).exists()


def test_an_api_token_needs_the_modules_scope(fire):
    """The framework gives the module's API the scopes module:fire_safety:read and :write: a
    token without them is refused (403), with them it acts as its account (role and area
    still apply), another county's token is unknown here (401), and where the module is
    switched off the routes are not found."""
    from civicgrid.platform.api.tokens.scopes import required_scope
    from civicgrid.plugins.builtin.fire_safety.api import ModuleView
    from tests.platform.security.test_api_tokens import bearer, issue

    assert required_scope(ModuleView(), "GET") is None  # the view declares nothing itself
    with tenant_context(fire.shangcheng):
        unit = make_unit("FS-T801")
        data, _files = answers(unit)
    units, inspections = "/api/v1/p/fire_safety/units/", "/api/v1/p/fire_safety/inspections/"
    post = {"unit": unit.pk, **data}

    def inspected() -> int:
        with tenant_context(fire.shangcheng):
            return Inspection.objects.count()

    _row, core_only = issue(fire, "cases:read", "cases:write", user="shangcheng_gridworker")
    refused = bearer(core_only).get(units)
    assert refused.status_code == 403 and "module:fire_safety:read" in refused.json()["detail"]
    assert bearer(core_only).post(inspections, post, HTTP_IDEMPOTENCY_KEY="tok-key-0001").status_code == 403

    _row, reader = issue(fire, "module:fire_safety:read", user="shangcheng_gridworker")
    listed = bearer(reader).get(units)
    assert listed.status_code == 200 and [u["code"] for u in listed.json()["results"]] == ["FS-T801"]
    assert bearer(reader).get(f"{units}{unit.pk}/").status_code == 200
    refused = bearer(reader).post(inspections, post, HTTP_IDEMPOTENCY_KEY="tok-key-0001")
    assert refused.status_code == 403 and "module:fire_safety:write" in refused.json()["detail"]
    assert inspected() == 0

    _row, writer = issue(fire, "module:fire_safety:read", "module:fire_safety:write", user="shangcheng_gridworker")
    made = bearer(writer).post(inspections, post, HTTP_IDEMPOTENCY_KEY="tok-key-0001")  # no CSRF, no cookie
    assert made.status_code == 201, made.content
    assert made.json()["inspected_by"] == "shangcheng_gridworker" and inspected() == 1

    # The token's account decides the rest: a department handler reads nothing, an auditor
    # inspects nothing, whatever scopes their tokens carry.
    _row, handler = issue(fire, "module:fire_safety:read", user="fire_handler")
    assert bearer(handler).get(units).status_code == 404
    _row, auditor = issue(fire, "module:fire_safety:read", "module:fire_safety:write", user="fire_auditor")
    assert bearer(auditor).post(inspections, post, HTTP_IDEMPOTENCY_KEY="tok-key-0002").status_code == 404
    assert inspected() == 1

    # Another county's token, where the module is on in both: unknown here.
    switch_on(fire, tenant=fire.yuhang)
    _row, yuhang = issue(fire, "module:fire_safety:read", "module:fire_safety:write", user="yuhang_operator",
                         tenant=fire.yuhang)
    assert bearer(yuhang).get(units).status_code == 401
    assert bearer(yuhang).post(inspections, post, HTTP_IDEMPOTENCY_KEY="tok-key-0003").status_code == 401
    assert bearer(writer, YUHANG).get(units).status_code == 401
    assert inspected() == 1

    # Switched off: not found, whatever the token, and no longer offered for new tokens.
    connection.set_schema_to_public()  # the requests left the connection in the last host's schema
    plugin_actions.disable_plugin(tenant=fire.shangcheng, plugin_id="fire_safety", acting_user=None)
    assert bearer(writer).get(units).status_code == 404
    assert bearer(writer).post(inspections, post, HTTP_IDEMPOTENCY_KEY="tok-key-0004").status_code == 404
    with pytest.raises(ValidationError) as refused:
        issue(fire, "module:fire_safety:read")
    assert "module:fire_safety:read" in refused.value.message_dict["scopes"][0]
    assert inspected() == 1
