"""The console in Chromium: a county admin enrols a second factor and switches a plugin on;
the command centre sees an early warning on a spike and follows it to its cases; the queue,
the map and the dashboard render with no script error. Screenshots for the user guides."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tenants.utils import tenant_context

from civicgrid.platform.accounts.models import User
from civicgrid.platform.cases import actions
from civicgrid.platform.cases.early_warning import raise_early_warnings
from civicgrid.platform.cases.models import Case, EarlyWarning, Source
from civicgrid.platform.notifications.models import Notification
from civicgrid.plugins.actions import publish_plugin
from civicgrid.plugins.catalog import sync_catalog
from tests.browser.conftest import sign_in
from tests.browser.test_plugin_pages import forget_the_sample_plugin
from tests.platform.cases.test_case_pages import IN_G01, staff
from tests.two_factor import give_authenticator
from tests.world import PASSWORD

pytestmark = pytest.mark.slow
expect = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (pip install playwright)").expect

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
SPIKE_TITLE = "浏览器测试：夜间施工噪音"


def test_a_county_admin_enrols_a_second_factor_and_switches_a_plugin_on(chromium, committed, asgi_server):
    world = committed
    base = f"http://shangcheng.localhost:{asgi_server}"
    SHOTS.mkdir(parents=True, exist_ok=True)
    admin = User.objects.get(username="shangcheng_admin")
    TOTPDevice.objects.filter(user=admin).delete()
    sync_catalog()
    publish_plugin(plugin_id="sample", published=True, acting_user=None)
    try:
        with chromium() as page:
            page.goto(f"{base}/accounts/login/?next=/plugins/")
            page.fill("#id_username", "shangcheng_admin")
            page.fill("#id_password", PASSWORD)
            page.click("form.stacked button[type=submit]")
            page.wait_for_url(lambda url: "/accounts/two-factor/enrol/" in url)
            # Typing an address does not get round it.
            page.goto(f"{base}/plugins/")
            assert "/accounts/two-factor/enrol/" in page.url
            expect(page.locator("nav.side")).to_have_count(0)
            expect(page.locator(".enrol-qr svg")).to_be_visible()
            page.screenshot(path=str(SHOTS / "console-enrol.png"), full_page=True)
            key = page.get_attribute("[data-totp-key]", "data-totp-key")
            from base64 import b32decode

            page.fill("#id_code", f"{totp(b32decode(key + '=' * (-len(key) % 8))):06d}")
            page.click("form.stacked button[type=submit]")
            expect(page.locator("[data-recovery-codes] li")).to_have_count(10)
            page.screenshot(path=str(SHOTS / "console-recovery-codes.png"), full_page=True)
            page.get_by_role("link", name="继续").click()
            page.wait_for_url(f"{base}/plugins/")
            row = page.locator("tr", has_text="示例插件")
            row.get_by_role("link", name="启用").click()
            page.locator("main form button.primary").click()
            expect(page.locator("main")).to_contain_text("已启用 示例插件")
            expect(page.locator("nav.side")).to_contain_text("示例")
            page.screenshot(path=str(SHOTS / "console-plugins.png"), full_page=True)
            assert page.problems == []
        assert TOTPDevice.objects.get(user=admin, confirmed=True)
    finally:
        give_authenticator(admin)
        forget_the_sample_plugin(world)


def make_spike(world) -> list[str]:
    """Three weeks of one complaint a day in the first township, then eight today."""
    with tenant_context(world.shangcheng):
        worker = staff("shangcheng_gridworker")
        for day in range(1, 22):
            case = actions.report_case(staff=worker, category="ENV-NOISE-CONSTRUCTION", title=SPIKE_TITLE,
                                       source=Source.GRID_WORKER, **IN_G01)
            Case.objects.filter(pk=case.pk).update(reported_at=timezone.now() - timedelta(days=day))
        today = [actions.report_case(staff=worker, category="ENV-NOISE-CONSTRUCTION", title=SPIKE_TITLE,
                                     source=Source.GRID_WORKER, **IN_G01).number for _ in range(8)]
        assert [w.category.code for w in raise_early_warnings()] == ["ENV-NOISE-CONSTRUCTION"]
        # And one call to the 12345 hotline, which waits on the command centre's desk.
        actions.report_case(staff=staff("shangcheng_operator"), category="URB-ROAD", title=SPIKE_TITLE,
                            source=Source.HOTLINE_12345, **IN_G01)
        return today


def forget_the_spike(world) -> None:
    with tenant_context(world.shangcheng):
        warnings = EarlyWarning.objects.filter(category__code="ENV-NOISE-CONSTRUCTION")
        Notification.objects.filter(topic="case.early_warning").delete()
        warnings.delete()
        for case in Case.objects.filter(title=SPIKE_TITLE):
            case.delete()


def test_the_command_centre_sees_an_early_warning_and_the_cases_behind_it(chromium, committed, asgi_server):
    world = committed
    base = f"http://shangcheng.localhost:{asgi_server}"
    forget_the_spike(world)
    try:
        numbers = make_spike(world)
        with chromium() as page:
            sign_in(page, base, "shangcheng_operator", PASSWORD)
            page.goto(f"{base}/")
            card = page.locator("[data-warnings]")
            expect(card).to_contain_text("施工噪音")
            page.screenshot(path=str(SHOTS / "console-home.png"), full_page=True)
            card.locator("a").first.click()
            page.wait_for_url(lambda url: "/dashboard/warnings/" in url)
            for number in numbers:
                expect(page.locator(f"tr[data-case='{number}']")).to_be_visible()
            page.screenshot(path=str(SHOTS / "console-warning.png"), full_page=True)

            page.goto(f"{base}/dashboard/?days=30")
            expect(page.locator("[data-warnings]")).to_be_visible()
            page.wait_for_function("() => document.querySelectorAll('[data-chart][data-rendered]').length >= 4")
            page.screenshot(path=str(SHOTS / "console-dashboard.png"), full_page=True)
            # A figure drills down to its cases.
            page.locator("[data-chart='top_problems']").scroll_into_view_if_needed()
            link = page.locator("details.chart-table a", has_text="施工噪音").first
            link.evaluate("a => a.closest('details').open = true")
            link.click()
            page.wait_for_url(lambda url: "/cases/" in url and "category=ENV-NOISE-CONSTRUCTION" in url)
            expect(page.locator(f"tr[data-case='{numbers[0]}']")).to_be_visible()

            page.goto(f"{base}/queue/")
            expect(page.locator("[data-count='total'] strong")).not_to_have_text("0")
            page.screenshot(path=str(SHOTS / "console-queue.png"), full_page=True)
            # A light's chip swaps the list in place (htmx) and keeps the filter in the address.
            page.evaluate("window.stillThisPage = true")
            page.locator("[data-count='green']").click()
            page.wait_for_url(lambda url: "light=green" in url)
            expect(page.locator("[data-count='green']")).to_have_class("light-green chosen")
            assert page.evaluate("window.stillThisPage === true"), "no full reload"
            page.goto(f"{base}/map/")
            page.wait_for_function("() => document.getElementById('grid-map').dataset.ready === '1'")
            assert int(page.get_attribute("#grid-map", "data-grid-count")) >= 8
            assert int(page.get_attribute("#grid-map", "data-pin-count")) >= 8
            page.locator("[data-map-layer='density']").check()
            page.wait_for_function("() => document.getElementById('grid-map').dataset.densityMax")
            page.locator("[data-map-layer='pins']").uncheck()  # so the click lands on a grid, not a pin
            box = page.locator("#grid-map").bounding_box()
            page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            expect(page.locator("[data-map-card] h3")).to_be_visible()
            page.screenshot(path=str(SHOTS / "console-map.png"), full_page=True)
            assert page.problems == []
    finally:
        forget_the_spike(world)
