"""Businesses and licences, complaints, the licence-expiry reminders and the import target,
through the module's actions and functions."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone, translation
from django_tenants.utils import tenant_context

from civicgrid.platform.notifications.models import Notification
from civicgrid.platform.registry.imports.records import RowContext
from civicgrid.plugins.builtin.food_safety import actions, imports, reminders, selectors
from civicgrid.plugins.builtin.food_safety.models import FoodBusiness, FoodCase, Licence, Reminder

from .conftest import business_values, staff


@pytest.fixture
def shangcheng(food):
    with tenant_context(food.shangcheng), translation.override("en"):
        yield food


def test_a_business_is_registered_with_its_licence_and_its_status_is_derived(shangcheng):
    admin = staff("shangcheng_admin")
    today = timezone.localdate()
    valid = actions.register_business(staff=admin, **business_values())
    soon = actions.register_business(staff=admin, **business_values(
        name="快到期超市", kind="sales", licence_number="JY13301020000002", licence_expires_on=today + timedelta(days=30)))
    gone = actions.register_business(staff=admin, **business_values(
        name="过期药店", kind="pharmacy", licence_number="JY13301020000003", licence_expires_on=today - timedelta(days=1)))
    none = actions.register_business(staff=admin, **business_values(
        name="无证摊贩", kind="vendor", licence_number="", licence_issued_on=None, licence_expires_on=None))
    statuses = dict(selectors.with_licence_status(FoodBusiness.objects.all()).values_list("name", "licence_status"))
    assert statuses == {valid.name: "valid", soon.name: "expiring", gone.name: "expired", none.name: ""}
    for status, expected in (("valid", valid), ("expiring", soon), ("expired", gone)):
        assert list(selectors.filtered(FoodBusiness.objects.all(), status=status)) == [expected]
    assert selectors.licence_status(today) == "expiring" and selectors.licence_status(today - timedelta(days=1)) == "expired"
    assert valid.changes.get().action == "create"


@pytest.mark.parametrize("change, field", [
    ({"name": ""}, "name"),
    ({"kind": "casino"}, "kind"),
    ({"grid": "T01-C01"}, "grid"),  # a community, not a grid
    ({"grid": "NOPE"}, "grid"),
    ({"latitude": "91", "longitude": "120"}, "location"),
    ({"latitude": "", "longitude": "120.1"}, "location"),
    ({"operator_phone": "12345"}, "operator_phone"),
    ({"credit_code": "NOTACODE"}, "credit_code"),
    ({"licence_number": "x y"}, "licence_number"),
    ({"licence_expires_on": date(2021, 1, 1)}, "licence_expires_on"),
    ({"licence_issued_on": None}, "licence_issued_on"),
    ({"name": "a\x00b"}, "name"),
])
def test_bad_business_input_is_refused_by_field_and_nothing_is_stored(shangcheng, change, field):
    with pytest.raises(ValidationError) as refused:
        actions.register_business(staff=staff("shangcheng_admin"), **business_values(**change))
    assert field in refused.value.message_dict
    assert not FoodBusiness.objects.exists()


def test_a_licence_number_is_held_once_and_editing_keeps_history(shangcheng):
    admin = staff("shangcheng_admin")
    first = actions.register_business(staff=admin, **business_values())
    with pytest.raises(ValidationError) as refused:
        actions.register_business(staff=admin, **business_values(name="另一家"))
    assert "licence_number" in refused.value.message_dict
    renewed = date.today() + timedelta(days=900)
    actions.update_business(staff=admin, business_id=first.pk, **business_values(licence_expires_on=renewed))
    assert Licence.objects.get(business=first).expires_on == renewed
    assert first.changes.first().fields == ["licence_expires_on"]


def test_only_keepers_of_the_register_edit_it(shangcheng):
    values = business_values()
    for username in ("shangcheng_gridworker", "fs_auditor", "fs_psb", "fs_township2"):
        with pytest.raises(Http404):
            actions.register_business(staff=staff(username), **values)
    actions.register_business(staff=staff("fs_samr"), **values)  # market supervision keeps it


def test_scope_township_and_grid_staff_see_their_area_only(shangcheng):
    admin = staff("shangcheng_admin")
    here = actions.register_business(staff=admin, **business_values())
    there = actions.register_business(staff=admin, **business_values(
        name="城西小吃", grid="T02-C01-G01", latitude="", longitude="", licence_number="JY13301020000009"))
    assert set(selectors.businesses_for(staff("shangcheng_gridworker"))) == {here}
    assert set(selectors.businesses_for(staff("fs_township2"))) == {there}
    assert set(selectors.businesses_for(staff("fs_samr"))) == {here, there}
    assert not selectors.businesses_for(staff("fs_psb")).exists()


def test_a_complaint_becomes_a_case_for_market_supervision_linked_to_the_business(shangcheng):
    business = actions.register_business(staff=staff("shangcheng_admin"), **business_values())
    case = actions.file_complaint(staff=staff("shangcheng_operator"), business_id=business.pk,
                                  description="吃了拉肚子", source="hotline_12345", reporter_name="李某",
                                  reporter_phone="13900000000", client_key="complaint-0001")
    assert case.category.code == "FOOD-COMPLAINT" and case.category.department_code == "D-SAMR"
    assert case.grid.code == "T01-C01-G01" and case.title.startswith(business.name)
    assert FoodCase.objects.get(case=case).business == business
    again = actions.file_complaint(staff=staff("shangcheng_operator"), business_id=business.pk,
                                   description="吃了拉肚子", source="hotline_12345", client_key="complaint-0001")
    assert again.pk == case.pk and FoodCase.objects.count() == 1
    with pytest.raises(ValidationError) as refused:
        actions.file_complaint(staff=staff("shangcheng_operator"), business_id=business.pk, description=" ",
                               source="nowhere", category="DSP-NEIGHBOUR")
    assert set(refused.value.message_dict) == {"description", "source", "category"}
    with pytest.raises(Http404):
        actions.file_complaint(staff=staff("fs_township2"), business_id=business.pk, description="x",
                               source="hotline_12345")  # not in their area


# --- the licence-expiry reminders ------------------------------------------------------------


def _due_world():
    admin = staff("shangcheng_admin")
    today = timezone.localdate()
    soon = actions.register_business(staff=admin, **business_values(
        name="快到期面馆", licence_number="JY1330102000S001", licence_expires_on=today + timedelta(days=20)))
    gone = actions.register_business(staff=admin, **business_values(
        name="已过期超市", kind="sales", licence_number="JY1330102000E001", licence_expires_on=today - timedelta(days=3)))
    actions.register_business(staff=admin, **business_values(
        name="远未到期", licence_number="JY1330102000V001", licence_expires_on=today + timedelta(days=300)))
    return soon, gone


def test_the_licence_job_reminds_grid_workers_and_market_supervision_once(shangcheng):
    soon, gone = _due_world()
    worker, samr = staff("shangcheng_gridworker").user, staff("fs_samr").user
    assert reminders.remind_expiring_licences() == 2
    assert sorted(Reminder.objects.values_list("licence__business__name", "threshold")) == [
        ("已过期超市", "expired"), ("快到期面馆", "expiring")]
    mine = Notification.objects.filter(recipient=worker, topic="food_safety.licence")
    assert sorted(n.url for n in mine) == sorted(f"/p/food_safety/businesses/{b.pk}/" for b in (soon, gone))
    assert Notification.objects.filter(recipient=samr, topic="food_safety.licence").count() == 2  # one per threshold
    assert not Notification.objects.filter(recipient=staff("fs_gridworker2").user).exists()  # another grid
    assert not Notification.objects.filter(recipient=staff("fs_psb").user).exists()
    stored = Notification.objects.filter(topic="food_safety.licence").count()
    # Run again: nothing new.
    assert reminders.remind_expiring_licences() == 0
    assert Notification.objects.filter(topic="food_safety.licence").count() == stored
    # The day after the expiring one expires, it is reminded once more (expired); a renewal with a
    # new date starts over.
    later = soon.licence.expires_on + timedelta(days=1)
    assert reminders.remind_expiring_licences(today=later) == 1
    assert reminders.remind_expiring_licences(today=later) == 0



def test_the_import_target_cleans_compares_and_applies(shangcheng):
    context = RowContext()
    row = {"licence_number": "JY13301020000101", "name": " 新店 ", "kind": "餐饮服务", "address": "和平路2号",
           "grid": "T01-C01-G01", "latitude": "30.245", "longitude": "120.175", "operator_phone": "138 0000 0002",
           "licence_issued_on": "2024/1/5", "licence_expires_on": "20290104"}
    clean = imports.clean(row, context)
    assert clean["kind"] == "catering" and clean["licence_issued_on"] == "2024-01-05"
    assert clean["latitude"] == "30.245000" and clean["operator_phone"] == "13800000002"
    assert imports.current([clean["licence_number"]]) == {}
    imports.apply([clean], [], actor=None)
    held = imports.current([clean["licence_number"]])
    assert held == {clean["licence_number"]: clean}
    changed = imports.clean({**row, "licence_expires_on": "2030-01-04"}, context)
    imports.apply([], [changed], actor=None)
    assert Licence.objects.get(number=row["licence_number"]).expires_on == date(2030, 1, 4)
    business = FoodBusiness.objects.get()
    assert [c.action for c in business.changes.all()] == ["import", "import"]
    assert business.source == "import"


@pytest.mark.parametrize("change, field", [
    ({"kind": "赌场"}, "kind"),
    ({"grid": "T09-C01-G01"}, "grid"),
    ({"licence_expires_on": "明年"}, "licence_expires_on"),
    ({"licence_issued_on": "2030-01-01", "licence_expires_on": "2029-01-01"}, "licence_expires_on"),
    ({"name": ""}, "name"),
    ({"latitude": "abc", "longitude": "120"}, "location"),
    ({"credit_code": "123"}, "credit_code"),
])
def test_the_import_target_refuses_bad_rows_with_reasons(shangcheng, change, field):
    row = {"licence_number": "JY13301020000101", "name": "新店", "kind": "餐饮服务", "address": "和平路2号",
           "grid": "T01-C01-G01", "licence_issued_on": "2024-01-05", "licence_expires_on": "2029-01-04", **change}
    with pytest.raises(ValidationError) as refused:
        imports.clean(row, RowContext())
    assert field in refused.value.message_dict


def test_the_demo_seeds_businesses_an_inspection_and_a_complaint_once(shangcheng):
    from civicgrid.plugins.builtin.food_safety import demo
    from civicgrid.plugins.builtin.food_safety.models import Finding, Inspection

    demo.seed_demo(tenant=shangcheng.shangcheng)
    demo.seed_demo(tenant=shangcheng.shangcheng)
    statuses = dict(selectors.with_licence_status(FoodBusiness.objects.all()).values_list("name", "licence_status"))
    assert len(statuses) == len(demo.BUSINESSES)
    assert statuses["鲜丰水果超市"] == "expiring" and statuses["张记豆腐坊"] == "expired"
    assert Inspection.objects.get().outcome == "failed"
    finding = Finding.objects.get()
    assert finding.status == "open" and finding.case.category.code == "FOOD-COLD"
    assert FoodCase.objects.filter(origin="complaint").count() == 1
    assert staff("shangcheng_samr").scope_department.code == "D-SAMR"
