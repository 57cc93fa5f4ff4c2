"""The plugin pages: a county admin switches plugins on and off for the county, the
provincial admin publishes and prices them and makes the statements, a vendor sees
its own plugins' use and revenue. Everyone else, and every other county, gets 404
and changes nothing."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context

from civicgrid.platform.accounts.actions import create_province_user
from civicgrid.platform.accounts.models import ProvinceRole
from civicgrid.platform.audit.models import AuditEntry
from civicgrid.platform.cases.models import Category
from civicgrid.plugins import actions, meter
from civicgrid.plugins.catalog import sync_catalog
from civicgrid.plugins.models import (
    Activation,
    CatalogEntry,
    Price,
    Statement,
    UsageRecord,
    Vendor,
    VendorMember,
)
from civicgrid.tenants.models import Tenant
from tests.world import PASSWORD

COUNTY = "test_county_pages_are_for_this_countys_admin_only"
PROVINCE_PAGES = "test_province_pages_are_for_the_provincial_admin_only"
ROUTES_COVERED = {
    "plugin-list": COUNTY,
    "plugin-enable": COUNTY,
    "plugin-disable": COUNTY,
    "plugin-catalog": PROVINCE_PAGES,
    "plugin-catalog-refresh": PROVINCE_PAGES,
    "plugin-entry": PROVINCE_PAGES,
    "plugin-publish": PROVINCE_PAGES,
    "plugin-price": PROVINCE_PAGES,
    "plugin-statements": PROVINCE_PAGES,
    "vendor-home": "test_the_vendor_page_is_for_the_vendors_own_people_only",
}

SHANGCHENG, YUHANG, PROVINCE = "shangcheng.localhost", "yuhang.localhost", "localhost"
CST = ZoneInfo("Asia/Shanghai")
MARCH = datetime(2025, 3, 14, 10, tzinfo=CST)


@pytest.fixture
def published(world):
    if not CatalogEntry.objects.filter(plugin_id="sample").exists():
        sync_catalog()
    actions.publish_plugin(plugin_id="sample", published=True, acting_user=None)
    return world


def vendor_user(username: str, vendor_code: str | None):
    user = create_province_user(username=username, password=PASSWORD, province_role=ProvinceRole.VENDOR,
                                acting_user=None)
    if vendor_code:
        VendorMember.objects.create(user=user, vendor=Vendor.objects.get(code=vendor_code))
    return user


def client_for(world, username: str | None, host: str) -> Client:
    client = Client(HTTP_HOST=host, HTTP_ACCEPT_LANGUAGE="en")
    if username:
        client.force_login(world.user(username))
    return client


def state() -> dict:
    """Everything a plugin page could change (public schema)."""
    connection.set_schema_to_public()
    return {
        "activations": sorted(Activation.objects.values_list("tenant__schema_name", "plugin__plugin_id", "enabled",
                                                             "enabled_at", "disabled_at")),
        "active": sorted(Tenant.objects.values_list("schema_name", "active_plugins")),
        "prices": sorted(Price.objects.values_list("plugin__plugin_id", "meter", "unit_price", "free",
                                                   "effective_from")),
        "catalog": sorted(CatalogEntry.objects.values_list("plugin_id", "published", "for_new_tenants", "installed",
                                                           "problem", "synced_at")),
        "statements": sorted(Statement.objects.values_list("pk", "total", "made_at")),
    }


def active_plugins(tenant) -> list[str]:
    return Tenant.objects.get(pk=tenant.pk).active_plugins


def usage(tenant, plugin_id, metric, quantity, at, key):
    UsageRecord.objects.create(tenant=tenant, plugin_id=plugin_id, metric=metric, quantity=quantity, at=at,
                               idempotency_key=key)


def statuses(client, requests) -> list[int]:
    return [getattr(client, method)(url, data or {}).status_code for method, url, data in requests]


# --- a county admin ----------------------------------------------------------------------

COUNTY_REQUESTS = [
    ("get", "/plugins/", None),
    ("get", "/plugins/sample/enable/", None),
    ("post", "/plugins/sample/enable/", None),
    ("get", "/plugins/sample/disable/", None),
    ("post", "/plugins/sample/disable/", None),
]


def test_county_pages_are_for_this_countys_admin_only(published):
    world = published
    vendor_user("acme_vendor", "sample-vendor")
    actions.enable_plugin(tenant=world.yuhang, plugin_id="sample", acting_user=None)  # something to switch off
    before = state()
    refused = [
        ("shangcheng_operator", SHANGCHENG), ("shangcheng_gridworker", SHANGCHENG),
        ("yuhang_operator", YUHANG),
        ("shangcheng_admin", YUHANG), ("yuhang_admin", SHANGCHENG),  # another county's admin
        ("prov_admin", YUHANG), ("prov_supervisor", YUHANG), ("acme_vendor", YUHANG),
        ("yuhang_admin", PROVINCE),  # the province host has no county pages
    ]
    for username, host in refused:
        assert statuses(client_for(world, username, host), COUNTY_REQUESTS) == [404] * 5, (username, host)
    for response in (Client(HTTP_HOST=YUHANG).get("/plugins/"), Client(HTTP_HOST=YUHANG).post("/plugins/sample/disable/")):
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert state() == before
    with tenant_context(world.yuhang):
        assert not AuditEntry.objects.filter(action__startswith="plugin.", actor_id__isnull=False).exists()

    admin = client_for(world, "yuhang_admin", YUHANG)
    assert statuses(admin, [("get", "/plugins/", None), ("get", "/plugins/sample/disable/", None)]) == [200, 200]
    assert admin.post("/plugins/sample/disable/").status_code == 302
    assert active_plugins(world.yuhang) == []


def test_switching_on_through_the_page_reaches_only_this_county(published):
    world = published
    admin = client_for(world, "shangcheng_admin", SHANGCHENG)
    listing = admin.get("/plugins/").content.decode()
    for shown in ("Sample plugin", "sample", "示例科技有限公司", "1.2.0", "测试用插件", "0.0500", "0.3333", "off"):
        assert shown in listing
    assert "/plugins/sample/enable/" in listing and "broken" not in listing and "future" not in listing
    for url in ("/p/sample/heard/", "/api/v1/p/sample/heard/"):
        assert admin.get(url).status_code == 404

    confirm = admin.get("/plugins/sample/enable/")
    page = confirm.content.decode()
    assert confirm.status_code == 200
    assert "SMP-LEAK" in page and "示例关注对象" in page and "0.0500" in page and "the first 100 each month free" in page
    assert active_plugins(world.shangcheng) == [] and not Activation.objects.exists()  # the GET changed nothing

    done = admin.post("/plugins/sample/enable/", follow=True)
    assert done.redirect_chain == [("/plugins/", 302)]
    assert "Sample plugin is switched on." in done.content.decode()
    assert active_plugins(world.shangcheng) == ["sample"] and active_plugins(world.yuhang) == []
    assert Activation.objects.get(tenant=world.shangcheng).changed_by == world.user("shangcheng_admin")
    with tenant_context(world.shangcheng):
        assert Category.objects.get(code="SMP-LEAK").is_active
        assert AuditEntry.objects.filter(action="plugin.enable", actor_id=world.user("shangcheng_admin").pk).count() == 1
    with tenant_context(world.yuhang):
        assert not Category.objects.filter(code__startswith="SMP", is_active=True).exists()
        assert not AuditEntry.objects.filter(action="plugin.enable").exists()

    # The plugin's pages and API now answer here, and only here.
    assert admin.get("/p/sample/heard/").json()["tenant"] == "shangcheng"
    assert admin.get("/api/v1/p/sample/heard/").status_code == 200
    yuhang = client_for(world, "yuhang_admin", YUHANG)
    assert yuhang.get("/p/sample/heard/").status_code == 404 and yuhang.get("/api/v1/p/sample/heard/").status_code == 404
    assert 'href="/p/sample/heard/"' not in yuhang.get("/").content.decode()

    # Its navigation entry and dashboard box appear in this county's console.
    home = admin.get("/").content.decode()
    assert re.search(r'href="/p/sample/heard/"[^>]*>示例</a>', home) and 'class="card widget"' in home and "示例插件" in home
    operator_home = client_for(world, "shangcheng_operator", SHANGCHENG).get("/").content.decode()
    assert 'href="/p/sample/heard/"' in operator_home and 'href="/plugins/"' not in operator_home
    assert 'href="/plugins/"' in home
    assert "badge active" in admin.get("/plugins/").content.decode()


def test_switching_off_through_the_page_keeps_the_data(published):
    world = published
    admin = client_for(world, "shangcheng_admin", SHANGCHENG)
    admin.post("/plugins/sample/enable/")
    confirm = admin.get("/plugins/sample/disable/").content.decode()
    assert "SMP-LEAK" in confirm and "is kept" in confirm
    assert active_plugins(world.shangcheng) == ["sample"]

    done = admin.post("/plugins/sample/disable/", follow=True)
    assert done.redirect_chain == [("/plugins/", 302)] and "is switched off" in done.content.decode()
    assert active_plugins(world.shangcheng) == []
    for url in ("/p/sample/heard/", "/api/v1/p/sample/heard/"):
        assert admin.get(url).status_code == 404
    assert 'href="/p/sample/heard/"' not in admin.get("/").content.decode()
    with tenant_context(world.shangcheng):
        from sample_plugin.models import HeardEvent

        assert not Category.objects.get(code="SMP-LEAK").is_active
        assert HeardEvent.objects.filter(hook="seed").count() == 1  # the data stays
        assert AuditEntry.objects.filter(action="plugin.disable", actor_id=world.user("shangcheng_admin").pk).exists()


def test_a_refused_switch_is_shown_and_changes_nothing(published):
    world = published
    admin = client_for(world, "shangcheng_admin", SHANGCHENG)
    before = state()
    response = admin.post("/plugins/sample/disable/")  # it is not on here
    assert response.status_code == 200
    assert "is not switched on here." in response.content.decode() and 'class="errorlist"' in response.content.decode()
    assert state() == before


def test_unknown_unpublished_and_refused_plugins_are_not_found(published):
    world = published
    admin = client_for(world, "shangcheng_admin", SHANGCHENG)
    before = state()
    for plugin_id in ("nope", "other", "broken", "future"):
        for action in ("enable", "disable"):
            assert admin.get(f"/plugins/{plugin_id}/{action}/").status_code == 404
            assert admin.post(f"/plugins/{plugin_id}/{action}/").status_code == 404
    assert state() == before


def test_a_withdrawn_plugin_can_still_be_switched_off_where_it_is_on(published):
    world = published
    admin = client_for(world, "shangcheng_admin", SHANGCHENG)
    admin.post("/plugins/sample/enable/")
    actions.publish_plugin(plugin_id="sample", published=False, acting_user=None)
    assert "Withdrawn by the province" in admin.get("/plugins/").content.decode()
    assert admin.post("/plugins/sample/enable/").status_code == 404
    assert admin.post("/plugins/sample/disable/").status_code == 302
    assert active_plugins(world.shangcheng) == []
    assert "sample" not in admin.get("/plugins/").content.decode()


# --- the provincial admin -----------------------------------------------------------------

def province_requests(period="2025-03"):
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    return [
        ("get", "/province/plugins/", None),
        ("post", "/province/plugins/refresh/", None),
        ("get", "/province/plugins/catalog/sample/", None),
        ("post", "/province/plugins/catalog/sample/publish/", {"published": "false"}),
        ("post", "/province/plugins/catalog/sample/price/",
         {"meter": "check", "unit_price": "9", "free": "0", "effective_from": tomorrow}),
        ("get", f"/province/plugins/statements/?period={period}", None),
        ("post", "/province/plugins/statements/", {"period": period}),
    ]


def test_province_pages_are_for_the_provincial_admin_only(published):
    world = published
    vendor_user("acme_vendor", "sample-vendor")
    usage(world.shangcheng, "sample", "check", 300, MARCH, "m1")
    before = state()
    refused = [("prov_supervisor", PROVINCE), ("acme_vendor", PROVINCE), ("shangcheng_admin", PROVINCE),
               ("prov_admin", SHANGCHENG), ("shangcheng_admin", SHANGCHENG)]
    for username, host in refused:
        assert statuses(client_for(world, username, host), province_requests()) == [404] * 7, (username, host)
    anonymous = statuses(Client(HTTP_HOST=PROVINCE), province_requests())
    assert anonymous == [302] * 7
    assert state() == before

    admin = client_for(world, "prov_admin", PROVINCE)
    assert statuses(admin, province_requests()) == [200, 302, 200, 302, 302, 200, 302]
    assert Statement.objects.filter(period=date(2025, 3, 1)).count() == 1
    assert not CatalogEntry.objects.get(plugin_id="sample").published


def test_the_catalog_lists_refused_plugins_with_the_reason_and_counts_tenants(published):
    world = published
    for tenant in (world.shangcheng, world.yuhang):
        actions.enable_plugin(tenant=tenant, plugin_id="sample", acting_user=None)
    admin = client_for(world, "prov_admin", PROVINCE)
    page = admin.get("/province/plugins/")
    rows = {}
    for chunk in page.content.decode().split('<tr data-plugin="')[1:]:
        rows[chunk.split('"', 1)[0]] = chunk.split("</tr>", 1)[0]
    assert set(rows) >= {"sample", "other", "broken", "future"}
    assert "acme_missing_sdk" in rows["broken"] and "refused" in rows["broken"]
    assert "&gt;=99" in rows["future"] and "refused" in rows["future"]
    assert "Publish" not in rows["broken"] and "Publish" not in rows["future"]
    assert "<td>2</td>" in rows["sample"] and "published" in rows["sample"] and "Withdraw" in rows["sample"]
    assert "0.0500" in rows["sample"] and "not published" in rows["other"] and "<td>0</td>" in rows["other"]
    assert 'href="/province/plugins/"' in page.content.decode()  # the province nav


def test_the_provincial_admin_publishes_withdraws_and_refreshes(published):
    world = published
    admin = client_for(world, "prov_admin", PROVINCE)
    response = admin.post("/province/plugins/catalog/other/publish/", {"published": "true", "for_new_tenants": "true"},
                          follow=True)
    assert "is published" in response.content.decode()
    other = CatalogEntry.objects.get(plugin_id="other")
    assert other.published and other.for_new_tenants
    assert AuditEntry.objects.filter(action="plugin.publish", actor_id=world.user("prov_admin").pk).exists()
    admin.post("/province/plugins/catalog/other/publish/", {"published": "false", "next": "entry"})
    other.refresh_from_db()
    assert not other.published and not other.for_new_tenants

    before = state()
    refused = admin.post("/province/plugins/catalog/broken/publish/", {"published": "true"}, follow=True)
    assert "cannot be published" in refused.content.decode()
    assert state() == before
    assert admin.post("/province/plugins/catalog/nope/publish/", {"published": "true"}).status_code == 404

    CatalogEntry.objects.filter(plugin_id="sample").update(version="0.0.1")
    refreshed = admin.post("/province/plugins/refresh/", follow=True)
    assert "The catalog is refreshed" in refreshed.content.decode()
    assert CatalogEntry.objects.get(plugin_id="sample").version == "1.2.0"
    assert admin.get("/province/plugins/").status_code == 200  # a GET only reads
    assert CatalogEntry.objects.get(plugin_id="sample").version == "1.2.0"


def test_a_new_price_from_a_date_and_bad_prices_change_nothing(published):
    world = published
    admin = client_for(world, "prov_admin", PROVINCE)
    page = admin.get("/province/plugins/catalog/sample/").content.decode()
    assert "Price history" in page and "0.0500" in page and "0.3333" in page
    start = timezone.localdate() + timedelta(days=10)
    response = admin.post("/province/plugins/catalog/sample/price/",
                          {"meter": "photo", "unit_price": "0.25", "free": "5", "effective_from": start.isoformat()})
    assert response.status_code == 302
    price = Price.objects.get(plugin__plugin_id="sample", meter="photo", effective_from=start)
    assert (price.unit_price, price.free, price.set_by) == (Decimal("0.2500"), 5, world.user("prov_admin"))
    assert f"from {start:%Y-%m-%d}: ¥0.2500, 5 free" in admin.get("/province/plugins/catalog/sample/").content.decode()

    before = state()
    bad = [
        ({"meter": "nope", "unit_price": "1", "free": "0", "effective_from": start.isoformat()}, "meter"),
        ({"meter": "check", "unit_price": "-1", "free": "0", "effective_from": start.isoformat()}, "unit_price"),
        ({"meter": "check", "unit_price": "abc", "free": "x", "effective_from": start.isoformat()}, "free"),
        ({"meter": "check", "unit_price": "1", "free": "0", "effective_from": "someday"}, "effective_from"),
        ({"meter": "check", "unit_price": "1", "free": "0", "effective_from": "2020-01-01"}, "effective_from"),
    ]
    for data, field in bad:
        response = admin.post("/province/plugins/catalog/sample/price/", data)
        assert response.status_code == 200, data
        assert field in response.context["form"].errors, (data, response.context["form"].errors)
    assert state() == before


def test_statements_for_a_month_to_the_fen(published):
    world = published
    admin = client_for(world, "prov_admin", PROVINCE)
    usage(world.shangcheng, "sample", "check", 250, MARCH, "c1")  # 150 billable × 0.05 = 7.50
    usage(world.shangcheng, "sample", "photo", 4, MARCH, "p1")  # 4 × 0.3333 = 1.3332 -> 1.33
    usage(world.yuhang, "sample", "photo", 1, MARCH, "p2")  # 0.33
    assert "No statements for this month yet." in admin.get("/province/plugins/statements/?period=2025-03").content.decode()

    done = admin.post("/province/plugins/statements/", {"period": "2025-03"}, follow=True)
    assert done.redirect_chain == [("/province/plugins/statements/?period=2025-03", 302)]
    page = done.content.decode()
    assert "2 statements made for 2025-03." in page
    assert "上城区" in page and "余杭区" in page and "示例科技有限公司" in page
    assert "¥8.83" in page and "¥0.33" in page and "¥9.16" in page  # each total, and all tenants
    assert "150 × ¥0.0500 = ¥7.50" in page

    before = state()
    bad = admin.post("/province/plugins/statements/", {"period": "2025-13"})
    assert bad.status_code == 200 and "YYYY-MM" in bad.content.decode()
    assert admin.get("/province/plugins/statements/?period=March").status_code == 200
    assert state() == before
    assert "No statements for this month yet." in admin.get("/province/plugins/statements/?period=2025-04").content.decode()


# --- a vendor --------------------------------------------------------------------------


def test_the_vendor_page_is_for_the_vendors_own_people_only(published):
    world = published
    vendor_user("acme_vendor", "sample-vendor")
    vendor_user("lonely_vendor", None)  # the role, but no vendor
    before = state()
    refused = [("lonely_vendor", PROVINCE), ("prov_admin", PROVINCE), ("prov_supervisor", PROVINCE),
               ("shangcheng_admin", PROVINCE), ("acme_vendor", SHANGCHENG)]
    for username, host in refused:
        assert client_for(world, username, host).get("/vendor/").status_code == 404, (username, host)
    anonymous = Client(HTTP_HOST=PROVINCE).get("/vendor/")
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert client_for(world, "acme_vendor", PROVINCE).get("/vendor/").status_code == 200
    assert state() == before


def test_a_vendor_sees_its_own_plugins_use_and_revenue_and_no_one_elses(published):
    world = published
    vendor_user("acme_vendor", "sample-vendor")
    vendor_user("other_vendor", "other-vendor")
    actions.enable_plugin(tenant=world.shangcheng, plugin_id="sample", acting_user=None)
    with tenant_context(world.shangcheng):
        meter("check", 3, idempotency_key="this-month", plugin="sample")
    usage(world.shangcheng, "sample", "check", 250, MARCH, "c1")
    usage(world.yuhang, "sample", "photo", 2, MARCH, "p1")
    usage(world.shangcheng, "other", "call", 9, MARCH, "o1")
    client = client_for(world, "prov_admin", PROVINCE)
    client.post("/province/plugins/statements/", {"period": "2025-03"})

    acme = client_for(world, "acme_vendor", PROVINCE)
    now = acme.get("/vendor/").content.decode()  # this month by default
    assert 'data-usage="sample:check"' in now and "上城区" in now and 'data-plugin="sample"' in now
    assert "余杭区" not in now  # no use there this month
    march = acme.get("/vendor/?period=2025-03").content.decode()
    assert march.count('data-usage="sample:') == 2 and "上城区" in march and "余杭区" in march
    assert 'data-usage="other:' not in march and 'data-revenue="other"' not in march and 'data-plugin="other"' not in march
    assert "¥7.50" in march and "¥0.67" in march  # shangcheng 150 × 0.05, yuhang 2 × 0.3333
    for personal in ("shangcheng_admin", "shangcheng_operator", "prov_admin"):
        assert personal not in march

    other = client_for(world, "other_vendor", PROVINCE).get("/vendor/?period=2025-03").content.decode()
    assert 'data-usage="other:call"' in other and 'data-usage="sample:' not in other
    assert 'data-revenue="sample"' not in other and 'data-plugin="sample"' not in other
    assert 'href="/vendor/"' in other  # the vendor's nav link
