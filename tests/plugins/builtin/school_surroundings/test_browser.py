"""In real Chromium: a grid worker on a 375 px phone opens 平安通, taps the school patrol
button and checks in with the phone's position (once inside the zone: counted once, even
when the page sends it again); an operator sees the school's zone on the map and the
check-in on today's duty."""

from __future__ import annotations

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from civicgrid.plugins import actions as plugin_actions
from civicgrid.plugins.builtin.school_surroundings.models import PatrolCheckIn, PatrolSlot, School
from civicgrid.plugins.models import UsageRecord
from tests.browser.conftest import chromium, sign_in  # noqa: F401 -- the fixture
from tests.browser.test_community_sites import off_loop, site_server  # noqa: F401 -- the fixture
from tests.world import PASSWORD

from .helpers import PLUGIN, everyone, make_school, point_at, slot_around_now, switch_on

pytestmark = pytest.mark.slow
expect = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed").expect
PHONE = {"width": 375, "height": 740}


@pytest.fixture
def patrol_world(committed):
    world = committed
    switch_on(world)
    with tenant_context(world.shangcheng):
        roles = everyone()
        school = make_school(code="BR-S001", name="浏览器小学")
        slot = slot_around_now(school, [roles["gridworker"]])
    world.school, world.slot = school, slot
    yield world
    with tenant_context(world.shangcheng):
        PatrolCheckIn.objects.filter(slot__school__code="BR-S001").delete()
        PatrolSlot.objects.filter(school__code="BR-S001").delete()
        School.objects.filter(code="BR-S001").delete()
    connection.set_schema_to_public()
    UsageRecord.objects.filter(plugin_id=PLUGIN).delete()
    plugin_actions.disable_plugin(tenant=world.shangcheng, plugin_id=PLUGIN, acting_user=None)


def test_a_patroller_checks_in_on_the_phone_and_the_operator_sees_it(chromium, patrol_world, site_server):  # noqa: F811
    world = patrol_world
    base = f"http://shangcheng.localhost:{site_server}"
    here = point_at(60, 135)
    with chromium(viewport=PHONE, mobile=True) as page:
        page.context.grant_permissions(["geolocation"], origin=base)
        page.context.set_geolocation({"latitude": here[0], "longitude": here[1]})
        sign_in(page, base, "shangcheng_gridworker", PASSWORD, next_path="/m/")
        page.wait_for_url(f"{base}/m/")
        page.locator('a[data-go="plugin"][href="/p/school_surroundings/checkin/"]').click()
        page.wait_for_url(f"{base}/p/school_surroundings/checkin/")
        section = page.locator(f'[data-patrol-slot="{world.slot.pk}"]')
        expect(section).to_contain_text("浏览器小学")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "wider than the phone"
        section.locator("[data-checkin]").click()
        expect(page.locator("[data-checkin-status]")).to_contain_text("浏览器小学")
        expect(section).to_have_attribute("data-state", "done")
        # The same check-in sent again (as the offline queue would, under its key): still one.
        key = page.evaluate("() => { const q = JSON.parse(localStorage.getItem('civicgrid-school-patrol') || '[]');"
                            " return q.length; }")
        assert key == 0  # delivered, so nothing waits on the phone
        page.reload()
        expect(page.locator(f'[data-patrol-slot="{world.slot.pk}"]')).to_have_attribute("data-state", "done")
        assert not [p for p in page.problems if "school_surroundings" in p or "script error" in p], page.problems

    def recorded():
        with tenant_context(world.shangcheng):
            return list(PatrolCheckIn.objects.filter(slot=world.slot).values_list("patroller__user__username",
                                                                                  "distance_m"))
    assert off_loop(recorded) == [("shangcheng_gridworker", 60)]

    with chromium() as page:
        sign_in(page, base, "shangcheng_operator", PASSWORD,
                next_path=f"/p/school_surroundings/schools/{world.school.pk}/")
        page.wait_for_url(f"{base}/p/school_surroundings/schools/{world.school.pk}/")
        expect(page.locator("[data-zone-map]")).to_have_attribute("data-ready", "1")
        expect(page.locator("[data-radius]")).to_have_attribute("data-radius", "200")
        page.goto(f"{base}/p/school_surroundings/duty/")
        expect(page.locator(f'tr[data-slot="{world.slot.pk}"]')).to_have_attribute("data-state", "done")
        assert not [p for p in page.problems if "script error" in p], page.problems

    def billed():
        connection.set_schema_to_public()
        return list(UsageRecord.objects.filter(plugin_id=PLUGIN).values_list("idempotency_key", "quantity"))
    assert off_loop(billed) == [(f"patrol:{world.slot.pk}:{timezone.localdate().isoformat()}", 1)]
