"""In Chromium: a grid worker on a 375 px phone inspects a unit while offline (a failed item
with its photo), the inspection waits on the phone and is sent once when the network is
back (one inspection, one case, billed once); the fire brigade handles the case; the
re-inspection on the phone closes it; the county admin sees the unit's history in the console."""

from __future__ import annotations

import re

import pytest
from django_tenants.utils import tenant_context

from civicgrid.platform.cases import actions as case_actions
from civicgrid.platform.cases.models import Case
from civicgrid.plugins.builtin.fire_safety.models import Hazard, Inspection
from civicgrid.plugins.builtin.fire_safety.selectors import checklist
from civicgrid.plugins.models import UsageRecord
from tests.browser.conftest import chromium, sign_in  # noqa: F401 -- the fixture
from tests.browser.test_community_sites import off_loop, photo_jpeg, site_server  # noqa: F401 -- the fixture
from tests.world import PASSWORD

from .conftest import discard_unit, ensure_people, make_unit, staff, switch_on

pytestmark = pytest.mark.slow
expect = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed").expect

PHONE = {"width": 375, "height": 740}
WORKER = "shangcheng_gridworker"
HERE = {"latitude": 30.2452, "longitude": 120.1753}
CODE = "FS-BROWSER-1"


@pytest.fixture
def fire_world(committed):
    world = committed
    switch_on(world)
    with tenant_context(world.shangcheng):
        ensure_people()
        unit = make_unit(CODE, kind="small_shop")
    world.unit = unit
    yield world
    discard_unit(world, CODE)


def _answer_all(page, fail_first: bool) -> None:
    fieldsets = page.locator("form[data-offline-form] fieldset[data-item]")
    for index in range(fieldsets.count()):
        fieldset = fieldsets.nth(index)
        if index == 0 and fail_first:
            fieldset.locator("input[value=fail]").check()
            fieldset.locator("input[type=file]").set_input_files(files=[{
                "name": "通道.jpg", "mimeType": "image/jpeg", "buffer": photo_jpeg()}])
            fieldset.locator("input[type=text]").fill("门口堆放纸箱")
        else:
            fieldset.locator("input[value=pass]").check()


def _state():
    with tenant_context(pytest.world.shangcheng):
        inspections = list(Inspection.objects.filter(unit__code=CODE).values_list("outcome", flat=True))
        hazards = list(Hazard.objects.filter(unit__code=CODE).values_list("status", "case_id"))
    usage = UsageRecord.objects.filter(tenant=pytest.world.shangcheng, plugin_id="fire_safety").count()
    return inspections, hazards, usage


def _handle(case_id):
    with tenant_context(pytest.world.shangcheng):
        case_actions.accept_case(staff=staff("shangcheng_operator"), case_id=case_id)
        case_actions.dispatch_case(staff=staff("shangcheng_operator"), case_id=case_id, department="D-FIRE")
        case_actions.start_case(staff=staff("fire_handler"), case_id=case_id)
        case_actions.handle_case(staff=staff("fire_handler"), case_id=case_id, result="纸箱已清走")


def _case_status(case_id):
    with tenant_context(pytest.world.shangcheng):
        return Case.objects.get(pk=case_id).status


def test_an_inspection_made_offline_is_sent_once_and_the_reinspection_closes_its_case(chromium, fire_world,  # noqa: F811
                                                                                      site_server):  # noqa: F811
    world = fire_world
    base = f"http://shangcheng.localhost:{site_server}"
    with tenant_context(world.shangcheng):
        assert len(checklist("small_shop")) >= 4
    with chromium(viewport=PHONE, mobile=True) as page:
        context = page.context
        context.grant_permissions(["geolocation"], origin=base)
        context.set_geolocation(HERE)
        sign_in(page, base, WORKER, PASSWORD, next_path="/m/")
        page.wait_for_url(f"{base}/m/")
        page.locator("a[data-go=plugin][href='/p/fire_safety/m/']").tap()
        page.wait_for_url(f"{base}/p/fire_safety/m/")
        page.locator(f"[data-unit='{CODE}'] a").tap()
        expect(page.locator("input[name=latitude]")).to_have_value("30.245200")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

        # Offline: answered item by item, the failed one with its photo; kept on the phone.
        context.set_offline(True)
        _answer_all(page, fail_first=True)
        expect(page.locator("fieldset[data-item] .photo").first).to_be_visible()
        page.locator("[data-submit]").tap()
        queued = page.locator("[data-queue-list] [data-queued]")
        expect(queued).to_have_count(1)
        expect(page.locator("[data-form-alert]")).to_be_visible()
        assert off_loop(_state)[0] == []

        # Online again: sent, once.
        context.set_offline(False)
        expect(page.locator("[data-sent-list] [data-sent]")).to_have_count(1, timeout=20_000)
        expect(page.locator("[data-queued]")).to_have_count(0)
        page.reload()
        page.wait_for_timeout(1500)
        inspections, hazards, usage = off_loop(_state)
        assert inspections == ["failed"] and len(hazards) == 1 and hazards[0][0] == "open" and usage == 1
        case_id = hazards[0][1]

        # The fire brigade handles it; the re-inspection finds it passing.
        off_loop(_handle, case_id)
        _answer_all(page, fail_first=False)
        page.locator("[data-submit]").tap()
        expect(page.locator("[data-sent-list] [data-sent]")).to_have_count(1, timeout=20_000)
        assert off_loop(_case_status, case_id) == "closed"
        inspections, hazards, usage = off_loop(_state)
        assert sorted(inspections) == ["failed", "passed"] and hazards[0][0] == "rectified" and usage == 2

    # The console: the county admin reads the unit's history.
    with chromium() as page:
        sign_in(page, base, "shangcheng_admin", PASSWORD, next_path="/p/fire_safety/units/?kind=small_shop")
        page.locator(f"[data-unit='{CODE}'] a").first.click()
        expect(page.locator("section.inspection")).to_have_count(2)
        expect(page.locator("section.inspection[data-outcome=failed] [data-result=fail]")).to_contain_text(re.compile("已整改|Rectified"))
        expect(page.locator("[data-open-hazards]")).to_contain_text(re.compile("无|None"))


def test_an_inspection_the_server_would_refuse_is_not_kept_and_one_refused_later_says_why(chromium, fire_world,  # noqa: F811
                                                                                          site_server):  # noqa: F811
    """Checked before it is kept: an unanswered item, a failed item without its photo and no
    position from the phone are said on the page and nothing waits. One kept offline for a
    unit the server no longer knows (404) is refused when the network is back, not tried for
    ever: the list says why, and it can be discarded."""
    base = f"http://shangcheng.localhost:{site_server}"
    with chromium(viewport=PHONE, mobile=True) as page:
        context = page.context  # no geolocation permission: the phone gives no position
        sign_in(page, base, WORKER, PASSWORD, next_path="/p/fire_safety/m/")
        page.wait_for_url(f"{base}/p/fire_safety/m/")
        page.locator(f"[data-unit='{CODE}'] a").tap()
        form = page.locator("form[data-offline-form]")
        # With the script the position comes from the phone: nothing to type, no mark of a page without script.
        expect(form.locator("[data-position-typed]")).to_be_hidden()
        expect(form.locator("[data-position-auto]")).to_be_visible()
        assert form.locator("[name=without_script]").count() == 0
        assert form.locator("input[name=client_key]").input_value()
        expect(form.locator("[data-locate-status]")).to_contain_text(re.compile("位置|location"), timeout=20_000)

        fieldsets = form.locator("fieldset[data-item]")
        for index in range(1, fieldsets.count()):
            fieldsets.nth(index).locator("input[value=pass]").check()
        page.locator("[data-submit]").tap()
        expect(page.locator("[data-form-alert]")).to_be_visible()
        expect(fieldsets.first).to_have_class(re.compile("invalid"))
        expect(fieldsets.first.locator(".errorlist")).to_contain_text(re.compile("请回答此项|Answer this item"))
        expect(form.locator("[data-field=location] .errorlist")).to_contain_text(re.compile("缺少位置|position is missing"))

        # A failed item without its photo: said by the item, still not kept.
        fieldsets.first.locator("input[value=fail]").check()
        page.locator("[data-submit]").tap()
        expect(fieldsets.first.locator("[data-field$='-photo'] .errorlist")).to_contain_text(
            re.compile("请为不合格项拍照|Take a photo"))
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        expect(page.locator("[data-queue-list] [data-queued]")).to_have_count(0)
        assert page.evaluate("""() => new Promise(resolve => {
            const open = indexedDB.open("civicgrid-worker", 1);
            open.onsuccess = () => { const all = open.result.transaction("reports").objectStore("reports").getAll();
                                     all.onsuccess = () => resolve(all.result.length); };
        })""") == 0

        # The position found, everything answered: kept offline, for a unit gone from the server.
        context.grant_permissions(["geolocation"], origin=base)
        context.set_geolocation(HERE)
        form.locator("[data-locate]").tap()
        expect(form.locator("input[name=latitude]")).to_have_value("30.245200")
        fieldsets.first.locator("input[value=pass]").check()
        page.evaluate("document.querySelector('form[data-offline-form]').dataset.endpoint = "
                      "'/p/fire_safety/m/units/987654321/send/'")
        context.set_offline(True)
        page.locator("[data-submit]").tap()
        queued = page.locator("[data-queue-list] [data-queued]")
        expect(queued).to_have_count(1)
        context.set_offline(False)
        expect(queued).to_have_attribute("data-state", "refused", timeout=20_000)
        expect(queued.locator("[data-queued-errors]")).to_contain_text(
            re.compile("服务器上已没有|no longer has what this was for"))
        expect(queued.locator("[data-queued-discard]")).to_be_visible()
        page.wait_for_timeout(3000)  # not tried again
        expect(queued).to_have_attribute("data-state", "refused")
        page.once("dialog", lambda dialog: dialog.accept())
        queued.locator("[data-queued-discard]").tap()
        expect(queued).to_have_count(0)
    assert off_loop(_state)[0] == []
