"""A county admin switches a plugin on and off in Chromium: the confirmation says
what will happen, the plugin's nav entry, home-page box and page appear, and go
away again. Live daphne, real Chromium; screenshots land in SHOTS."""

from __future__ import annotations

from pathlib import Path

import pytest
from django_tenants.utils import tenant_context

from civicgrid.platform.cases.models import Category
from civicgrid.platform.registry.models import CareKind
from civicgrid.plugins.actions import publish_plugin
from civicgrid.plugins.catalog import sync_catalog
from civicgrid.plugins.models import Activation
from civicgrid.tenants.models import Tenant
from tests.browser.test_case_pages import sign_in

pytestmark = pytest.mark.slow
expect = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (pip install playwright)").expect

SHOTS = Path("/work/tmp/shots")


def forget_the_sample_plugin(world):
    from sample_plugin.models import HeardEvent

    Activation.objects.filter(plugin__plugin_id="sample").delete()
    Tenant.objects.filter(pk=world.shangcheng.pk).update(active_plugins=[])
    publish_plugin(plugin_id="sample", published=False, acting_user=None)
    with tenant_context(world.shangcheng):
        Category.objects.filter(code="SMP-LEAK").delete()  # the leaf first: its group is protected
        Category.objects.filter(code="SMP").delete()
        CareKind.objects.filter(code="sample_watch").delete()
        HeardEvent.objects.all().delete()


def test_a_county_admin_switches_a_plugin_on_and_off(chromium, committed, asgi_server):
    world = committed
    base = f"http://shangcheng.localhost:{asgi_server}"
    SHOTS.mkdir(parents=True, exist_ok=True)
    sync_catalog()
    publish_plugin(plugin_id="sample", published=True, acting_user=None)
    try:
        with chromium() as page:
            sign_in(page, base, "shangcheng_admin")
            page.goto(f"{base}/plugins/")
            row = page.locator("tr", has_text="示例插件")
            expect(row).to_contain_text("示例科技有限公司")
            page.screenshot(path=str(SHOTS / "plugins-county-list.png"), full_page=True)
            row.get_by_role("link", name="启用").click()
            expect(page.locator("main")).to_contain_text("示例：燃气泄漏")  # the category it will add
            page.screenshot(path=str(SHOTS / "plugins-county-confirm.png"), full_page=True)
            page.locator("main form button.primary").click()
            expect(page.locator("main")).to_contain_text("已启用 示例插件")
            expect(page.locator("nav.side")).to_contain_text("示例")
            page.goto(f"{base}/")
            expect(page.locator("main")).to_contain_text("示例插件")  # its home-page box
            page.screenshot(path=str(SHOTS / "plugins-county-home.png"), full_page=True)
            assert page.goto(f"{base}/p/sample/heard/").status == 200
            page.goto(f"{base}/plugins/sample/disable/")
            page.locator("main form button.primary").click()
            expect(page.locator("main")).to_contain_text("数据保留")
            assert page.goto(f"{base}/p/sample/heard/").status == 404
            page.goto(f"{base}/")
            expect(page.locator("nav.side")).not_to_contain_text("示例")
        assert Tenant.objects.get(pk=world.shangcheng.pk).active_plugins == []
        assert Tenant.objects.get(pk=world.yuhang.pk).active_plugins == []
    finally:
        forget_the_sample_plugin(world)
