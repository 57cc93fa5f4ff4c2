"""Supervision above the county in a real browser: the provincial admin opens the supervision
page from the top bar, sees every tenant ranked in the table, Zhejiang's counties drawn on
the map and coloured, clicks a county for its row and trend; the city's admin sees its own
counties. Live daphne, real Chromium; screenshots land in docs/screenshots/."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from civicgrid.province.models import DailyAggregate, DailyTotal
from tests.browser.conftest import sign_in
from tests.province.figures import publish_days
from tests.world import PASSWORD

pytestmark = pytest.mark.slow
expect = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (pip install playwright)").expect

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
YUHANG_CENTRE = (120.30, 30.42)


def publish_month(world):
    """Thirty days as the tenants would have published them, each day a little different."""
    today = timezone.localdate()
    shapes = {world.shangcheng: (14, 0.92, 3), world.yuhang: (22, 0.71, 9), world.city: (3, 0.8, 1)}
    for tenant, (volume, on_time, overdue) in shapes.items():
        for back in range(30):
            wave = (back * 7 + len(tenant.name) * 3) % 9 - 4
            reported = max(volume + wave, 0)
            handled = max(reported - 2, 0)
            publish_days(tenant, today=today - timedelta(days=back),
                         kinds=(("DSP-CONSUMER", "DSP"), ("URB-ROAD", "URB")), townships=("T01", "T02"),
                         reported=reported, handled=handled, handled_on_time=int(handled * on_time),
                         rated=handled // 2, rating_sum=(handled // 2) * 4, satisfied=handled // 3,
                         overdue_open=overdue if back == 0 else max(overdue + wave, 0))


def forget(world):
    tenants = [world.city, world.shangcheng, world.yuhang]
    DailyAggregate.objects.filter(tenant__in=tenants).delete()
    DailyTotal.objects.filter(tenant__in=tenants).delete()


def test_the_provincial_admin_ranks_the_counties_on_a_table_and_a_map(chromium, committed, asgi_server):
    base = f"http://localhost:{asgi_server}"
    forget(committed)
    publish_month(committed)
    try:
        with chromium() as page:
            sign_in(page, base, "prov_admin", PASSWORD)
            page.goto(f"{base}/province/")
            page.click("header nav a[href='/province/supervision/']")
            page.wait_for_url(f"{base}/province/supervision/")

            table = page.locator("[data-supervision-table]")
            for code in ("330100", "330102", "330110"):
                expect(table.locator(f"tbody tr[data-tenant='{code}']")).to_have_count(1)
            # Ranked by on-time rate: 上城区 first, 余杭区 second; the city handled fewer but ranks too.
            expect(table.locator("tbody tr").first).to_have_attribute("data-tenant", "330102")
            expect(table.locator("tbody tr").first.locator("[data-cell=rank]")).to_have_text("1")
            expect(table.locator("tr[data-tenant='330110'] [data-cell=rank]")).not_to_have_text("1")

            drawn = page.locator("[data-supervision-map][data-drawn]")
            expect(drawn).to_have_count(1)
            assert int(drawn.get_attribute("data-drawn")) == 89  # Zhejiang's counties
            assert drawn.get_attribute("data-tenants-drawn") == "2"  # 上城区 and 余杭区 have shapes
            assert page.locator("[data-supervision-map] svg path").count() > 89
            expect(page.locator("[data-supervision-trend][data-rendered] svg")).to_have_count(1)
            page.screenshot(path=str(SHOTS / "province-supervision.png"), full_page=True)

            # A click on 余杭区 opens its row and its trend.
            x, y = page.evaluate("""([lng, lat]) => {
                const box = document.querySelector('[data-supervision-map]');
                const point = echarts.getInstanceByDom(box).convertToPixel({seriesIndex: 0}, [lng, lat]);
                const rect = box.getBoundingClientRect();
                return [rect.left + point[0], rect.top + point[1]];
            }""", list(YUHANG_CENTRE))
            page.mouse.click(x, y)
            page.wait_for_url(lambda url: "tenant=330110" in url)
            expect(page.locator("tr.chosen")).to_have_attribute("data-tenant", "330110")
            expect(page.locator("[data-breakdown=kind] tbody tr")).to_have_count(2)
            expect(page.locator("[data-breakdown=township] tbody tr")).to_have_count(2)
            expect(page.locator("[data-supervision-map][data-drawn]")).to_have_count(1)

            # Sorting by a column from its header.
            page.click("th[data-column=reported] a")
            page.wait_for_url(lambda url: "sort=-reported" in url)
            expect(table.locator("tbody tr").first).to_have_attribute("data-tenant", "330110")
            expect(page.locator("th[data-column=reported]")).to_have_attribute("aria-sort", "descending")
            assert page.problems == []
    finally:
        forget(committed)


def test_a_provincial_supervisor_sees_the_ranking(chromium, committed, asgi_server):
    """The supervisor (no onboarding pages, no second factor) goes from the portal to the ranking."""
    base = f"http://localhost:{asgi_server}"
    forget(committed)
    publish_month(committed)
    try:
        with chromium() as page:
            sign_in(page, base, "prov_supervisor", PASSWORD)
            page.goto(f"{base}/")
            page.click("header nav a[href='/province/supervision/']")
            page.wait_for_url(f"{base}/province/supervision/")
            table = page.locator("[data-supervision-table]")
            expect(table.locator("tbody tr").first).to_have_attribute("data-tenant", "330102")
            expect(table.locator("tbody tr").first.locator("[data-cell=rank]")).to_have_text("1")
            expect(page.locator("[data-supervision-map][data-drawn]")).to_have_count(1)
            assert page.goto(f"{base}/province/").status == 404, "onboarding is the admin's"
    finally:
        forget(committed)


def test_the_city_admin_sees_its_counties(chromium, committed, asgi_server):
    base = f"http://{committed.city.primary_domain}:{asgi_server}"
    forget(committed)
    publish_month(committed)
    try:
        with chromium() as page:
            sign_in(page, base, f"{committed.city.schema_name}_admin", PASSWORD)
            page.click("nav.side a[href='/supervision/']")
            page.wait_for_url(f"{base}/supervision/")
            rows = page.locator("[data-supervision-table] tbody tr")
            expect(rows).to_have_count(2)
            drawn = page.locator("[data-supervision-map][data-drawn]")
            expect(drawn).to_have_count(1)
            assert int(drawn.get_attribute("data-drawn")) == 13  # the city's districts and counties in the file
            assert drawn.get_attribute("data-tenants-drawn") == "2"
            page.screenshot(path=str(SHOTS / "city-supervision.png"), full_page=True)
            assert page.problems == []
    finally:
        forget(committed)
