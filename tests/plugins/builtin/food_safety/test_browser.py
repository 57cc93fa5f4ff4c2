"""In Chromium: a grid worker on a 375 px phone inspects a restaurant while offline (a failed
item with its photo); the inspection waits on the phone and is sent once when the network is
back (one inspection, one case for market supervision, billed once); market supervision
handles the case; the re-inspection on the phone passes the item and the case is closed. At
the desk, the operator finds the business by its licence status, reads its history and takes
a complaint that becomes a case."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage
from django_tenants.utils import tenant_context

from civicgrid.platform.cases import actions as case_actions
from civicgrid.platform.cases.models import Attachment, Case
from civicgrid.platform.notifications.models import Notification, OutboxEvent
from civicgrid.plugins import actions as plugin_actions
from civicgrid.plugins.builtin.food_safety import actions
from civicgrid.plugins.builtin.food_safety.models import (
    BusinessChange,
    Finding,
    FoodBusiness,
    FoodCase,
    Inspection,
    ItemResult,
    Licence,
)
from civicgrid.plugins.models import UsageRecord
from tests.browser.conftest import chromium, sign_in  # noqa: F401 -- the fixture
from tests.browser.test_community_sites import off_loop, photo_jpeg, site_server  # noqa: F401 -- the fixture
from tests.world import PASSWORD

from .conftest import business_values, ensure_people, staff, switch_on

pytestmark = pytest.mark.slow
expect = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed").expect

PHONE = {"width": 375, "height": 740}
HERE = {"latitude": 30.2452, "longitude": 120.1753}
NUMBER = "JY1330102BROWSE1"


@pytest.fixture
def food_world(committed):
    world = committed
    switch_on(world)
    with tenant_context(world.shangcheng):
        ensure_people()
        world.business = actions.register_business(staff=staff("shangcheng_admin"), **business_values(
            name="浏览器面馆", licence_number=NUMBER))
    yield world
    with tenant_context(world.shangcheng):
        business = FoodBusiness.objects.get(licence__number=NUMBER)
        case_ids = list(FoodCase.objects.filter(business=business).values_list("case_id", flat=True))
        for item in Attachment.objects.filter(case_id__in=case_ids):
            for name in filter(None, (item.file, item.thumbnail)):
                default_storage.delete(name)
        for result in ItemResult.objects.filter(inspection__business=business).exclude(photo=""):
            default_storage.delete(result.photo)
        Finding.objects.filter(business=business).delete()
        ItemResult.objects.filter(inspection__business=business).delete()
        Inspection.objects.filter(business=business).delete()
        FoodCase.objects.filter(business=business).delete()
        Notification.objects.filter(case_id__in=case_ids).delete()
        OutboxEvent.objects.filter(payload__case_id__in=case_ids).delete()
        Case.objects.filter(pk__in=case_ids).delete()
        BusinessChange.objects.filter(business=business).delete()
        Licence.objects.filter(business=business).delete()
        business.delete()
    UsageRecord.objects.filter(tenant=world.shangcheng, plugin_id="food_safety").delete()
    plugin_actions.disable_plugin(tenant=world.shangcheng, plugin_id="food_safety", acting_user=None)


def _answer_all(page, fail_code_text: str | None) -> None:
    fieldsets = page.locator("form[data-offline-form] fieldset[data-item]")
    for index in range(fieldsets.count()):
        fieldset = fieldsets.nth(index)
        if fail_code_text and fail_code_text in fieldset.locator("legend").inner_text():
            fieldset.locator("input[value=fail]").check()
            fieldset.locator("input[type=file]").set_input_files(files=[{
                "name": "冷柜.jpg", "mimeType": "image/jpeg", "buffer": photo_jpeg()}])
            fieldset.locator("input[type=text]").fill("冷藏柜12℃")
        else:
            fieldset.locator("input[value=pass]").check()


def _state():
    with tenant_context(pytest.world.shangcheng):
        inspections = list(Inspection.objects.filter(business__licence__number=NUMBER)
                           .values_list("outcome", flat=True))
        findings = list(Finding.objects.filter(business__licence__number=NUMBER).values_list("status", "case_id"))
    usage = UsageRecord.objects.filter(tenant=pytest.world.shangcheng, plugin_id="food_safety").count()
    return inspections, findings, usage


def _handle(case_id):
    with tenant_context(pytest.world.shangcheng):
        case_actions.accept_case(staff=staff("shangcheng_operator"), case_id=case_id)
        case_actions.dispatch_case(staff=staff("shangcheng_operator"), case_id=case_id)  # routed: D-SAMR
        case_actions.start_case(staff=staff("fs_samr"), case_id=case_id)
        case_actions.handle_case(staff=staff("fs_samr"), case_id=case_id, result="已维修冷柜")
        return Case.objects.get(pk=case_id).department.code


def _case(case_id):
    with tenant_context(pytest.world.shangcheng):
        case = Case.objects.select_related("category").get(pk=case_id)
        return case.status, case.category.code, case.attachments.count()


def _complaints():
    with tenant_context(pytest.world.shangcheng):
        return list(FoodCase.objects.filter(business__licence__number=NUMBER, origin="complaint")
                    .values_list("case__category__code", "case__source"))


def test_the_loop_on_a_phone_offline_and_at_the_desk(chromium, food_world, site_server):  # noqa: F811
    world = food_world
    base = f"http://shangcheng.localhost:{site_server}"
    with chromium(viewport=PHONE, mobile=True) as page:
        context = page.context
        context.grant_permissions(["geolocation"], origin=base)
        context.set_geolocation(HERE)
        sign_in(page, base, "shangcheng_gridworker", PASSWORD, next_path="/m/")
        page.wait_for_url(f"{base}/m/")
        page.locator("a[data-go=plugin][href='/p/food_safety/phone/']").tap()
        page.wait_for_url(f"{base}/p/food_safety/phone/")
        page.locator(f"[data-business='{world.business.pk}'] a").tap()
        expect(page.locator("[data-business-name]")).to_have_text("浏览器面馆")
        expect(page.locator("input[name=latitude]")).to_have_value("30.245200")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

        # Offline: answered item by item, the failed one with its photo; kept on the phone.
        context.set_offline(True)
        _answer_all(page, "冷藏设施")
        page.locator("[data-submit]").tap()
        expect(page.locator("[data-queue-list] [data-queued]")).to_have_count(1)
        assert off_loop(_state)[0] == []

        # Online again: sent, once.
        context.set_offline(False)
        expect(page.locator("[data-sent-list] [data-sent]")).to_have_count(1, timeout=20_000)
        expect(page.locator("[data-queued]")).to_have_count(0)
        page.reload()
        page.wait_for_timeout(1000)
        inspections, findings, usage = off_loop(_state)
        assert inspections == ["failed"] and len(findings) == 1 and findings[0][0] == "open" and usage == 1
        case_id = findings[0][1]
        assert off_loop(_case, case_id) == ("reported", "FOOD-COLD", 1)  # with the item's photo

        # Market supervision handles it; the re-inspection passes the item and closes the case.
        assert off_loop(_handle, case_id) == "D-SAMR"
        page.reload()
        expect(page.locator("[data-open-findings]")).to_contain_text("冷藏设施")
        _answer_all(page, None)
        page.locator("[data-submit]").tap()
        expect(page.locator("[data-sent-list] [data-sent]")).to_have_count(1, timeout=20_000)
        inspections, findings, usage = off_loop(_state)
        assert sorted(inspections) == ["failed", "passed"] and findings[0][0] == "rectified" and usage == 2
        assert off_loop(_case, case_id)[0] == "closed"

    # At the desk: the list by licence status, the business's history, a complaint from the hotline.
    with chromium() as page:
        sign_in(page, base, "shangcheng_operator", PASSWORD, next_path="/p/food_safety/?status=valid")
        row = page.locator(f"tr[data-business='{world.business.pk}']")
        expect(row).to_contain_text(NUMBER)
        expect(row.locator("[data-licence=valid]")).to_have_count(1)
        row.get_by_role("link", name="浏览器面馆").click()
        expect(page.locator("[data-history] [data-kind=inspection]")).to_have_count(2)
        expect(page.locator("[data-business-cases] .status-closed")).to_have_count(1)
        page.locator(f"a[href='/p/food_safety/businesses/{world.business.pk}/complaint/']").click()
        page.locator("[data-complaint-form] button.primary").click()  # empty: refused in place
        expect(page.locator("[data-complaint-form] .errorlist")).not_to_have_count(0)
        page.select_option("#id_category", "FOOD-EXPIRED")
        page.fill("#id_description", "市民反映买到过期酸奶")
        page.select_option("#id_source", "hotline_12345")
        page.fill("#id_reporter_name", "陈女士")
        page.locator("[data-complaint-form] button.primary").click()
        expect(page.locator("ul.messages li")).to_have_count(1)
        expect(page.locator("[data-business-cases] li")).to_have_count(2)
        assert not [p for p in page.problems if "HTTP 4" in p and "complaint" not in p], page.problems
    assert off_loop(_complaints) == [("FOOD-EXPIRED", "hotline_12345")]
