"""The whole loop through the API: a grid worker's inspection fails an item → a case for
market supervision with the item's photo → handled → a re-inspection passes the item and
closes the finding. A repeated offline inspection is stored, counted and billed once."""

from __future__ import annotations

import threading
import uuid

from django.db import close_old_connections, connection
from django_tenants.utils import tenant_context

from civicgrid.platform.cases.models import Case
from civicgrid.plugins.builtin.food_safety import actions
from civicgrid.plugins.builtin.food_safety.models import Finding, FoodCase, Inspection, ItemResult
from civicgrid.plugins.models import UsageRecord

from .conftest import answers, business_values, client, staff


def usage(world) -> list:
    connection.set_schema_to_public()
    return list(UsageRecord.objects.filter(plugin_id="food_safety", tenant=world.shangcheng)
                .values_list("metric", "quantity", "idempotency_key"))


def test_the_whole_loop_through_the_api(food):
    world = food
    with tenant_context(world.shangcheng):
        business = actions.register_business(staff=staff("shangcheng_admin"), **business_values())
    worker = client(world, "shangcheng_gridworker")
    checklist = worker.get(f"/api/v1/p/food_safety/businesses/{business.pk}/checklist/").json()
    with tenant_context(world.shangcheng):
        from civicgrid.plugins.builtin.food_safety.models import CheckItem

        items = list(CheckItem.objects.filter(pk__in=[row["id"] for row in checklist]).order_by("position"))
    assert [row["field"] for row in checklist] == [f"item-{item.pk}" for item in items]
    assert "prescription" not in {item.code for item in items}  # a pharmacy's item, not a restaurant's

    data, files = answers(items, fail={"hygiene"})
    key = str(uuid.uuid4())
    sent = worker.post("/api/v1/p/food_safety/inspections/", {"business": business.pk, **data, **files},
                       HTTP_IDEMPOTENCY_KEY=key)
    assert sent.status_code == 201, sent.content
    inspection = sent.json()
    assert inspection["outcome"] == "failed"
    failed = [row for row in inspection["results"] if row["result"] == "fail"]
    assert len(failed) == 1 and failed[0]["has_photo"] and failed[0]["finding"] == "open"
    number = failed[0]["case"]

    # The phone lost the answer and sends again: the same inspection, nothing new, billed once.
    data, files = answers(items, fail={"hygiene"})
    again = worker.post("/api/v1/p/food_safety/inspections/", {"business": business.pk, **data, **files},
                        HTTP_IDEMPOTENCY_KEY=key)
    assert again.status_code == 200 and again.json()["id"] == inspection["id"]
    with tenant_context(world.shangcheng):
        assert Inspection.objects.count() == 1 and Case.objects.filter(number=number).count() == 1
        case = Case.objects.get(number=number)
        assert case.category.code == "FOOD-HYGIENE" and case.source == "inspection"
        assert case.attachments.count() == 1  # the failed item's photo
        assert FoodCase.objects.get(case=case).origin == "inspection"
    assert usage(world) == [("inspection", 1, f"inspection:{inspection['id']}")]

    # Market supervision handles the case.
    operator, handler = client(world, "shangcheng_operator"), client(world, "fs_samr")
    assert operator.post(f"/api/v1/cases/{case.pk}/accept/", {}).status_code == 200
    dispatched = operator.post(f"/api/v1/cases/{case.pk}/dispatch/", {})  # routed by its category
    assert dispatched.status_code == 200 and dispatched.json()["department"] == "D-SAMR"
    assert handler.post(f"/api/v1/cases/{case.pk}/start/", {}).status_code == 200
    assert handler.post(f"/api/v1/cases/{case.pk}/handle/", {"result": "已整改，责令清洁"}).status_code == 200
    detail = handler.get(f"/api/v1/p/food_safety/businesses/{business.pk}/").json()
    assert [(c["number"], c["status"]) for c in detail["cases"]] == [(number, "handled")]

    # A failed item that is still open is not reported twice ...
    data, files = answers(items, fail={"hygiene"})
    repeat = worker.post("/api/v1/p/food_safety/inspections/", {"business": business.pk, **data, **files},
                         HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))
    assert repeat.status_code == 201
    with tenant_context(world.shangcheng):
        assert FoodCase.objects.count() == 1
    # ... and the re-inspection that passes it closes the loop.
    data, files = answers(items)
    passed = worker.post("/api/v1/p/food_safety/inspections/", {"business": business.pk, **data, **files},
                         HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))
    assert passed.status_code == 201 and passed.json()["outcome"] == "passed"
    with tenant_context(world.shangcheng):
        finding = Finding.objects.get()
        assert finding.status == "rectified" and finding.rectified_in_id == passed.json()["id"]
        case.refresh_from_db()
        assert case.status == "closed"  # the platform closes it on the inspector's verification
    listed = client(world, "fs_samr").get(f"/api/v1/p/food_safety/inspections/?business={business.pk}").json()
    assert listed["count"] == 3
    assert len(usage(world)) == 3


def test_a_reinspection_before_the_case_is_handled_closes_it_when_it_is(food):
    from civicgrid.platform.cases import actions as case_actions
    from civicgrid.platform.notifications.outbox import relay
    from civicgrid.plugins.builtin.food_safety.checklist import items_for

    world = food
    with tenant_context(world.shangcheng):
        business = actions.register_business(staff=staff("shangcheng_admin"), **business_values())
        items = items_for(business)
        worker = staff("shangcheng_gridworker")
        data, files = answers(items, fail={"health"})
        actions.inspect_business(staff=worker, business_id=business.pk, data=data, files=files,
                                 client_key=str(uuid.uuid4()))
        case = Finding.objects.get().case
        operator, handler = staff("shangcheng_operator"), staff("fs_samr")
        case_actions.accept_case(staff=operator, case_id=case.pk)
        case_actions.dispatch_case(staff=operator, case_id=case.pk)
        data, files = answers(items)
        actions.inspect_business(staff=worker, business_id=business.pk, data=data, files=files,
                                 client_key=str(uuid.uuid4()))
        assert Finding.objects.get().status == "rectified"
        case.refresh_from_db()
        assert case.status == "dispatched"  # not handled yet: it waits
        case_actions.start_case(staff=handler, case_id=case.pk)
        case_actions.handle_case(staff=handler, case_id=case.pk, result="已办理健康证")
        relay()  # the worker's relay after commit: the module's hook closes it
        case.refresh_from_db()
        assert case.status == "closed"


def test_bad_inspections_are_refused_by_field_and_nothing_is_stored(food):
    world = food
    with tenant_context(world.shangcheng):
        business = actions.register_business(staff=staff("shangcheng_admin"), **business_values())
        from civicgrid.plugins.builtin.food_safety.checklist import items_for

        items = items_for(business)
    worker = client(world, "shangcheng_gridworker")
    url = "/api/v1/p/food_safety/inspections/"
    data, files = answers(items, fail={"cold"})
    no_key = worker.post(url, {"business": business.pk, **data, **files})
    assert no_key.status_code == 400 and "client_key" in no_key.json()
    data, _files = answers(items, fail={"cold"})  # failed without a photo
    no_photo = worker.post(url, {"business": business.pk, **data}, HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))
    assert no_photo.status_code == 400 and f"item-{items[5].pk}-photo" in no_photo.json()
    data, files = answers(items)
    data.pop(f"item-{items[0].pk}")
    data["latitude"] = "123"
    unanswered = worker.post(url, {"business": business.pk, **data}, HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))
    assert unanswered.status_code == 400 and {f"item-{items[0].pk}", "location"} <= set(unanswered.json())
    data, files = answers(items, fail={"cold"})
    files[f"item-{items[5].pk}-photo"].file.write(b"")  # keep a photo but make it a script
    from django.core.files.uploadedfile import SimpleUploadedFile

    files[f"item-{items[5].pk}-photo"] = SimpleUploadedFile("x.jpg", b"<script>alert(1)</script>")
    script = worker.post(url, {"business": business.pk, **data, **files}, HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))
    assert script.status_code == 400
    with tenant_context(world.shangcheng):
        assert not Inspection.objects.exists() and not ItemResult.objects.exists() and not Case.objects.exists()
    assert usage(world) == []


def test_the_same_offline_inspection_sent_twice_at_once_is_stored_and_billed_once(committed):
    """Two requests with one device key at the same moment (two connections, committed)."""
    from .conftest import ensure_people, switch_on

    world = committed
    switch_on(world)
    try:
        with tenant_context(world.shangcheng):
            ensure_people()
            business = actions.register_business(staff=staff("shangcheng_admin"), **business_values(
                licence_number="JY1330102PARA001"))
            from civicgrid.plugins.builtin.food_safety.checklist import items_for

            items = items_for(business)
        key, answers_ = str(uuid.uuid4()), []
        barrier = threading.Barrier(2)

        def send():
            try:
                data, files = answers(items, fail={"trace"})
                worker = client(world, "shangcheng_gridworker")
                barrier.wait()
                answers_.append(worker.post("/api/v1/p/food_safety/inspections/",
                                            {"business": business.pk, **data, **files},
                                            HTTP_IDEMPOTENCY_KEY=key).status_code)
            finally:
                close_old_connections()
                connection.close()

        threads = [threading.Thread(target=send) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(answers_) == [200, 201]
        with tenant_context(world.shangcheng):
            assert Inspection.objects.filter(client_key=key).count() == 1
            assert FoodCase.objects.filter(business=business).count() == 1
        assert len(usage(world)) == 1
    finally:
        cleanup(world)


def cleanup(world):
    from civicgrid.platform.notifications.models import Notification
    from civicgrid.plugins import actions as plugin_actions
    from civicgrid.plugins.builtin.food_safety.models import BusinessChange, FoodBusiness, Licence, Reminder

    connection.set_schema_to_public()
    UsageRecord.objects.filter(plugin_id="food_safety").delete()
    with tenant_context(world.shangcheng):
        cases = list(FoodCase.objects.values_list("case_id", flat=True))
        Finding.objects.all().delete()
        ItemResult.objects.all().delete()
        Inspection.objects.all().delete()
        FoodCase.objects.all().delete()
        Case.objects.filter(pk__in=cases).delete()
        Reminder.objects.all().delete()
        Notification.objects.filter(topic="food_safety.licence").delete()
        BusinessChange.objects.all().delete()
        Licence.objects.all().delete()
        FoodBusiness.objects.all().delete()
    plugin_actions.disable_plugin(tenant=world.shangcheng, plugin_id="food_safety", acting_user=None)


def test_the_licence_job_run_twice_at_once_reminds_once(committed):
    from datetime import timedelta

    from django.utils import timezone

    from civicgrid.platform.notifications.models import Notification
    from civicgrid.plugins.builtin.food_safety.models import Reminder
    from civicgrid.plugins.builtin.food_safety.reminders import remind_expiring_licences

    from .conftest import ensure_people, switch_on

    world = committed
    switch_on(world)
    try:
        with tenant_context(world.shangcheng):
            ensure_people()
            today = timezone.localdate()
            for n in range(30):
                actions.register_business(staff=staff("shangcheng_admin"), **business_values(
                    name=f"店{n}", licence_number=f"JY1330102PAR{n:04d}",
                    licence_expires_on=today + timedelta(days=n - 10)))
        made, barrier = [], threading.Barrier(2)

        def run():
            try:
                with tenant_context(world.shangcheng):
                    barrier.wait()
                    made.append(remind_expiring_licences(today=today))
            finally:
                connection.close()

        threads = [threading.Thread(target=run) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(made) == [0, 30]  # 10 expired, 20 expiring within 30 days (n - 10 in 0..19 and -10..-1)
        with tenant_context(world.shangcheng):
            assert Reminder.objects.count() == 30
            worker = staff("shangcheng_gridworker").user
            assert Notification.objects.filter(recipient=worker, topic="food_safety.licence").count() == 30
            assert remind_expiring_licences(today=today) == 0
    finally:
        cleanup(world)
