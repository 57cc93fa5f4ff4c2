"""Every page and endpoint of the module: the right roles get it, the wrong role and the
wrong tenant get 404 and change nothing, a tenant without the module gets 404, no
navigation, no hooks and no jobs; switched off and on again, its data is intact."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from civicgrid.platform.cases.models import Case, Category
from civicgrid.plugins import actions as plugin_actions
from civicgrid.plugins.builtin.food_safety import actions
from civicgrid.plugins.builtin.food_safety.checklist import items_for
from civicgrid.plugins.builtin.food_safety.models import FoodBusiness, FoodCase, Inspection, Licence
from civicgrid.plugins.manager import tenant_hooks
from civicgrid.plugins.tasks import run_plugin_jobs

from .conftest import YUHANG, answers, business_values, client, staff

ACCESS = "test_every_page_and_endpoint_is_for_the_right_roles_in_this_tenant_only"
FORMS = "test_console_forms_refuse_bad_input_and_store_what_is_good"
ROUTES_COVERED = {
    "food_safety:business-list": ACCESS,
    "food_safety:business-new": FORMS,
    "food_safety:business-detail": ACCESS,
    "food_safety:business-edit": FORMS,
    "food_safety:complaint-new": FORMS,
    "food_safety:inspection-list": ACCESS,
    "food_safety:inspection-detail": ACCESS,
    "food_safety:inspection-photo": ACCESS,
    "food_safety:phone-businesses": ACCESS,
    "food_safety:inspect": ACCESS,
    "food_safety:inspect-send": ACCESS,
    "api-food_safety:businesses": ACCESS,
    "api-food_safety:business-detail": ACCESS,
    "api-food_safety:business-checklist": ACCESS,
    "api-food_safety:complaints": ACCESS,
    "api-food_safety:inspections": ACCESS,
    "api-food_safety:inspection-detail": ACCESS,
}


@pytest.fixture
def held(food):
    """A business with a failed inspection and its case."""
    world = food
    with tenant_context(world.shangcheng):
        business = actions.register_business(staff=staff("shangcheng_admin"), **business_values())
        data, files = answers(items_for(business), fail={"expired"})
        inspection, _ = actions.inspect_business(staff=staff("shangcheng_gridworker"), business_id=business.pk,
                                                 data=data, files=files, client_key=str(uuid.uuid4()))
        photo = inspection.results.exclude(photo="").get()
    return world, business, inspection, photo


def state(world) -> dict:
    with tenant_context(world.shangcheng):
        return {"businesses": sorted(FoodBusiness.objects.values_list("pk", "name", "updated_at")),
                "licences": sorted(Licence.objects.values_list("number", "expires_on")),
                "inspections": Inspection.objects.count(), "cases": Case.objects.count(),
                "links": FoodCase.objects.count()}


def test_every_page_and_endpoint_is_for_the_right_roles_in_this_tenant_only(held):
    world, business, inspection, photo = held
    b, i = business.pk, inspection.pk
    with tenant_context(world.shangcheng):
        items = items_for(business)
    pages = {  # url: (method, roles that may)
        "/p/food_safety/": ("get", {"shangcheng_admin", "shangcheng_operator", "shangcheng_gridworker", "fs_samr",
                                    "fs_auditor", "fs_township2", "fs_gridworker2"}),
        f"/p/food_safety/businesses/{b}/": ("get", {"shangcheng_admin", "shangcheng_operator",
                                                    "shangcheng_gridworker", "fs_samr", "fs_auditor"}),
        "/p/food_safety/inspections/": ("get", {"shangcheng_admin", "shangcheng_operator", "shangcheng_gridworker",
                                                "fs_samr", "fs_auditor", "fs_township2", "fs_gridworker2"}),
        f"/p/food_safety/inspections/{i}/": ("get", {"shangcheng_admin", "shangcheng_operator",
                                                     "shangcheng_gridworker", "fs_samr", "fs_auditor"}),
        f"/p/food_safety/inspections/{i}/photos/{photo.pk}/": ("get", {
            "shangcheng_admin", "shangcheng_operator", "shangcheng_gridworker", "fs_samr", "fs_auditor"}),
        "/p/food_safety/phone/": ("get", {"shangcheng_gridworker", "fs_gridworker2"}),
        f"/p/food_safety/phone/{b}/inspect/": ("get", {"shangcheng_gridworker"}),
        "/api/v1/p/food_safety/businesses/": ("get", {"shangcheng_admin", "shangcheng_operator",
                                                      "shangcheng_gridworker", "fs_samr", "fs_auditor",
                                                      "fs_township2", "fs_gridworker2"}),
        f"/api/v1/p/food_safety/businesses/{b}/": ("get", {"shangcheng_admin", "shangcheng_operator",
                                                           "shangcheng_gridworker", "fs_samr", "fs_auditor"}),
        f"/api/v1/p/food_safety/businesses/{b}/checklist/": ("get", {
            "shangcheng_admin", "shangcheng_operator", "shangcheng_gridworker", "fs_samr", "fs_auditor"}),
        "/api/v1/p/food_safety/inspections/": ("get", {"shangcheng_admin", "shangcheng_operator",
                                                       "shangcheng_gridworker", "fs_samr", "fs_auditor",
                                                       "fs_township2", "fs_gridworker2"}),
        f"/api/v1/p/food_safety/inspections/{i}/": ("get", {"shangcheng_admin", "shangcheng_operator",
                                                            "shangcheng_gridworker", "fs_samr", "fs_auditor"}),
    }
    everyone = ["shangcheng_admin", "shangcheng_operator", "shangcheng_gridworker", "fs_samr", "fs_psb",
                "fs_auditor", "fs_township2", "fs_gridworker2", "yuhang_operator"]
    before = state(world)
    for username in everyone:
        c = client(world, username)
        for url, (method, allowed) in pages.items():
            status = getattr(c, method)(url).status_code
            assert (status == 200) == (username in allowed), (username, url, status)
            if username not in allowed:
                assert status == 404, (username, url, status)
    # Writes by the wrong role, the wrong area or the wrong tenant: 404, nothing changes.
    data, files = answers(items, fail={"expired"})
    writes = [
        ("/p/food_safety/businesses/new/", business_values(name="X", licence_number="JY0000000000X1"),
         {"shangcheng_admin", "shangcheng_operator", "fs_samr"}),
        (f"/p/food_safety/businesses/{b}/edit/", business_values(name="改名"),
         {"shangcheng_admin", "shangcheng_operator", "fs_samr"}),
        (f"/p/food_safety/businesses/{b}/complaint/", {"description": "投诉", "source": "hotline_12345",
                                                       "category": "FOOD-COMPLAINT"},
         {"shangcheng_admin", "shangcheng_operator", "fs_samr"}),
        (f"/p/food_safety/phone/{b}/inspect/", {**data, **files}, {"shangcheng_gridworker"}),
        (f"/p/food_safety/phone/{b}/inspect/send/", {**data, **files}, {"shangcheng_gridworker"}),
        ("/api/v1/p/food_safety/complaints/", {"business": b, "description": "投诉", "source": "hotline_12345"},
         {"shangcheng_admin", "shangcheng_operator", "fs_samr"}),
        ("/api/v1/p/food_safety/inspections/", {"business": b, **data, **files}, {"shangcheng_gridworker"}),
    ]
    for username in everyone:
        c = client(world, username)
        for url, payload, allowed in writes:
            if username in allowed:
                continue
            for upload in files.values():
                upload.seek(0)
            status = c.post(url, payload, HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4())).status_code
            assert status == 404, (username, url, status)
    assert state(world) == before
    # Anonymous: sign in first (console), 401/403 (API).
    anonymous = client(world, None)
    assert anonymous.get("/p/food_safety/").status_code == 302
    assert anonymous.get("/api/v1/p/food_safety/businesses/").status_code in (401, 403)
    # The module is off in yuhang: 404 for its own staff, on every route.
    there = client(world, "yuhang_operator", host=YUHANG)
    for url in list(pages) + [w[0] for w in writes]:
        assert there.get(url).status_code == 404, url
    # The right roles can write (the GETs above were reads).
    data, files = answers(items, fail={"expired"})
    assert client(world, "shangcheng_gridworker").post(
        f"/p/food_safety/phone/{b}/inspect/send/", {**data, **files},
        HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4())).status_code == 201


def test_console_forms_refuse_bad_input_and_store_what_is_good(food):
    world = food
    admin = client(world, "shangcheng_admin")
    bad = admin.post("/p/food_safety/businesses/new/", business_values(name="", kind="casino", grid="NOPE"))
    assert bad.status_code == 400 and {"name", "kind", "grid"} <= set(bad.context["form"].errors)
    bad = admin.post("/p/food_safety/businesses/new/", business_values(
        credit_code="123", licence_number="x y", latitude="89", longitude="", operator_phone="1"))
    assert bad.status_code == 400
    form = bad.context["form"]
    assert {"credit_code", "licence_number", "operator_phone"} <= set(form.errors)
    assert "__all__" in form.errors  # the location
    with tenant_context(world.shangcheng):
        assert not FoodBusiness.objects.exists()
    good = admin.post("/p/food_safety/businesses/new/", business_values())
    assert good.status_code == 302
    with tenant_context(world.shangcheng):
        business = FoodBusiness.objects.get()
    assert good["Location"] == f"/p/food_safety/businesses/{business.pk}/"
    page = admin.get(good["Location"])
    assert page.status_code == 200 and business.name in page.content.decode()
    # Edit: a renewal.
    renewed = (timezone.localdate() + timedelta(days=1000)).isoformat()
    assert admin.get(f"/p/food_safety/businesses/{business.pk}/edit/").status_code == 200
    taken = admin.post(f"/p/food_safety/businesses/{business.pk}/edit/", business_values(licence_expires_on="x"))
    assert taken.status_code == 400 and "licence_expires_on" in taken.context["form"].errors
    saved = admin.post(f"/p/food_safety/businesses/{business.pk}/edit/",
                       business_values(licence_expires_on=renewed))
    assert saved.status_code == 302
    with tenant_context(world.shangcheng):
        assert Licence.objects.get().expires_on.isoformat() == renewed
    # A complaint taken for a resident.
    url = f"/p/food_safety/businesses/{business.pk}/complaint/"
    assert admin.get(url).status_code == 200
    refused = admin.post(url, {"description": "", "source": "nowhere", "category": "FOOD-COMPLAINT"})
    assert refused.status_code == 400 and {"description", "source"} <= set(refused.context["form"].errors)
    sent = admin.post(url, {"description": "买到过期牛奶", "source": "hotline_12345", "category": "FOOD-EXPIRED",
                            "reporter_name": "张某", "reporter_phone": "13700000000"})
    assert sent.status_code == 302
    with tenant_context(world.shangcheng):
        case = FoodCase.objects.get().case
        assert case.category.code == "FOOD-EXPIRED" and case.source == "hotline_12345"
    history = admin.get(f"/p/food_safety/businesses/{business.pk}/").content.decode()
    assert case.number in history
    # Filters on the list.
    listed = admin.get("/p/food_safety/?status=valid&kind=catering&grid=T01-C01-G01")
    assert listed.status_code == 200 and business.name in listed.content.decode()
    assert business.name not in admin.get("/p/food_safety/?status=expired").content.decode()
    # The phone's form without script, refused then sent.
    worker = client(world, "shangcheng_gridworker")
    with tenant_context(world.shangcheng):
        items = items_for(business)
    data, files = answers(items, fail={"cold"})
    files.clear()
    no_photo = worker.post(f"/p/food_safety/phone/{business.pk}/inspect/", data)
    assert no_photo.status_code == 400 and "Take a photo" in no_photo.content.decode()
    data, files = answers(items, fail={"cold"})
    assert worker.post(f"/p/food_safety/phone/{business.pk}/inspect/", {**data, **files}).status_code == 302


def test_the_module_is_absent_where_it_is_off_and_keeps_its_data_when_switched_off(food):
    world = food
    with tenant_context(world.shangcheng):
        business = actions.register_business(staff=staff("shangcheng_admin"), **business_values(
            licence_expires_on=timezone.localdate() + timedelta(days=5)))
    home = client(world, "shangcheng_admin").get("/").content.decode()
    assert "/p/food_safety/" in home  # navigation and the widget
    assert "/p/food_safety/" not in client(world, "yuhang_operator", host=YUHANG).get("/").content.decode()
    worker_home = client(world, "shangcheng_gridworker").get("/m/").content.decode()
    assert "/p/food_safety/phone/" in worker_home
    schema = client(world, "shangcheng_admin").get("/api/schema/").content.decode()
    assert "/api/v1/p/food_safety/inspections/" in schema and "food_inspections_create" in schema
    with tenant_context(world.shangcheng):
        assert tenant_hooks(connection.tenant).collect("civicgrid_periodic_jobs")
        assert Category.objects.get(code="FOOD-HYGIENE").is_active
        cache.delete("plugin-job:food_safety:licence-reminders")
        assert "food_safety:licence-reminders" in run_plugin_jobs.run()
    with tenant_context(world.yuhang):
        assert not [j for j in tenant_hooks(connection.tenant).collect("civicgrid_periodic_jobs")
                    if j.name == "licence-reminders"]
        assert not tenant_hooks(connection.tenant).collect("civicgrid_import_targets")
        assert "food_safety:licence-reminders" not in run_plugin_jobs.run()
        assert not Category.objects.filter(code__startswith="FOOD").exists()
    # Switched off: 404, no navigation, categories off, data kept; back on: all there.
    plugin_actions.disable_plugin(tenant=world.shangcheng, plugin_id="food_safety", acting_user=None)
    admin = client(world, "shangcheng_admin")
    assert admin.get("/p/food_safety/").status_code == 404
    assert admin.get("/api/v1/p/food_safety/businesses/").status_code == 404
    assert "/p/food_safety/" not in admin.get("/").content.decode()
    with tenant_context(world.shangcheng):
        assert not Category.objects.get(code="FOOD-HYGIENE").is_active
        assert FoodBusiness.objects.filter(pk=business.pk).exists()
        cache.delete("plugin-job:food_safety:licence-reminders")
        assert "food_safety:licence-reminders" not in run_plugin_jobs.run()
    plugin_actions.enable_plugin(tenant=world.shangcheng, plugin_id="food_safety", acting_user=None)
    with tenant_context(world.shangcheng):
        assert Category.objects.get(code="FOOD-HYGIENE").is_active
        from civicgrid.plugins.builtin.food_safety.models import CheckItem

        assert CheckItem.objects.filter(code="hygiene").count() == 1  # seeded once
    page = admin.get(f"/p/food_safety/businesses/{business.pk}/")
    assert page.status_code == 200 and business.name in page.content.decode()
