"""The whole loop through the actions and the API: an inspection with a failed item makes a
hazard case (category, department, deadline), the fire brigade handles it, a re-inspection
finds it passing and the case closes; repeated offline sends make one inspection, billed once."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from civicgrid.platform.cases import actions as case_actions
from civicgrid.platform.cases.models import Case, CaseEvent
from civicgrid.platform.notifications.outbox import relay
from civicgrid.plugins.builtin.fire_safety import actions
from civicgrid.plugins.builtin.fire_safety.models import Hazard, Inspection, RiskUnit
from civicgrid.plugins.builtin.fire_safety.risk import recompute_risk_levels
from civicgrid.plugins.builtin.fire_safety.selectors import checklist
from civicgrid.plugins.models import UsageRecord

from .conftest import answers, client_for, make_unit, staff

pytestmark = pytest.mark.django_db


def _dispatch_and_handle(case_id):
    operator, handler = staff("shangcheng_operator"), staff("fire_handler")
    case_actions.accept_case(staff=operator, case_id=case_id)
    case_actions.dispatch_case(staff=operator, case_id=case_id, department="D-FIRE")
    case_actions.start_case(staff=handler, case_id=case_id)
    return case_actions.handle_case(staff=handler, case_id=case_id, result="已清理通道")


def test_a_failed_item_becomes_a_case_and_a_passing_reinspection_closes_it(fire):
    with tenant_context(fire.shangcheng):
        unit = make_unit()
        worker = staff("shangcheng_gridworker")
        data, files = answers(unit, fail=(0,), na=(5,))
        inspection, created = actions.inspect_unit(staff=worker, unit_id=unit.pk, data=data, files=files,
                                                   client_key="device-key-0001")
        assert created and inspection.outcome == "failed"
        hazard = Hazard.objects.get(unit=unit)
        case = Case.objects.get(pk=hazard.case_id)
        item = checklist(unit.kind)[0]
        assert case.category.code == item.category_code == "FIRE-PASSAGE"
        assert case.category.department_code == "D-FIRE" and case.source == "inspection"
        assert case.accept_due is not None and case.attachments.count() == 1
        assert hazard.found.inspection_id == inspection.pk and hazard.found.photo
        unit.refresh_from_db()
        assert unit.risk_level == "high" and unit.risk_computed_on is not None  # rental 2 + open hazard 2 + failed 1

        _dispatch_and_handle(case.pk)
        data, files = answers(unit)
        again, created = actions.inspect_unit(staff=worker, unit_id=unit.pk, data=data, files=files,
                                              client_key="device-key-0002")
        assert created and again.outcome == "passed"
        case.refresh_from_db()
        hazard.refresh_from_db()
        assert case.status == "closed" and hazard.status == "rectified" and hazard.rectified_in_id == again.pk
        assert again.number in case.events.get(action="close").comment


def test_a_reinspection_before_handling_is_noted_and_the_handling_then_closes(fire):
    with tenant_context(fire.shangcheng):
        unit = make_unit("FS-T002", kind="small_shop")
        worker = staff("shangcheng_gridworker")
        data, files = answers(unit, fail=(1,))
        actions.inspect_unit(staff=worker, unit_id=unit.pk, data=data, files=files, client_key="device-key-0101")
        hazard = Hazard.objects.get(unit=unit)
        data, files = answers(unit)
        actions.inspect_unit(staff=worker, unit_id=unit.pk, data=data, files=files, client_key="device-key-0102")
        hazard.refresh_from_db()
        assert hazard.status == "rectified"
        case = Case.objects.get(pk=hazard.case_id)
        assert case.status == "reported"
        assert CaseEvent.objects.filter(case=case, action="verify", data__result="pass").exists()
        _dispatch_and_handle(case.pk)
        case.refresh_from_db()
        assert case.status == "handled"  # the hook runs from the outbox, after commit
        relay()  # the worker's relay: the module's civicgrid_case_transitioned hook closes it
        case.refresh_from_db()
        assert case.status == "closed"
        assert case.events.get(action="close").comment == str(actions.FOLLOW_UP.closed_comment)


def test_an_item_failing_again_keeps_its_hazard_and_case(fire):
    with tenant_context(fire.shangcheng):
        unit = make_unit("FS-T003", kind="ebike_charging")
        worker = staff("shangcheng_gridworker")
        for n in (1, 2):
            data, files = answers(unit, fail=(0,))
            actions.inspect_unit(staff=worker, unit_id=unit.pk, data=data, files=files,
                                 client_key=f"device-key-02{n:02d}")
        assert Hazard.objects.filter(unit=unit).count() == 1
        hazard = Hazard.objects.get(unit=unit)
        assert hazard.status == "open"
        assert Case.objects.filter(title__startswith=unit.name).count() == 1
        assert CaseEvent.objects.filter(case_id=hazard.case_id, action="verify", data__result="fail").exists()


def test_a_repeated_offline_inspection_is_one_inspection_one_case_and_billed_once(fire):
    with tenant_context(fire.shangcheng):
        unit = make_unit("FS-T004")
        worker = staff("shangcheng_gridworker")
        for _ in range(3):
            data, files = answers(unit, fail=(0, 2))
            inspection, _created = actions.inspect_unit(staff=worker, unit_id=unit.pk, data=data, files=files,
                                                        client_key="device-key-0301")
        assert Inspection.objects.filter(unit=unit).count() == 1
        assert Hazard.objects.filter(unit=unit).count() == 2
    assert UsageRecord.objects.filter(tenant=fire.shangcheng, plugin_id="fire_safety", metric="inspection").count() == 1


def test_the_api_loop_with_the_idempotency_key(fire):
    with tenant_context(fire.shangcheng):
        unit = make_unit("FS-T005")
    worker = client_for(fire, "shangcheng_gridworker")
    url = "/api/v1/p/fire_safety/inspections/"
    with tenant_context(fire.shangcheng):
        data, files = answers(unit, fail=(3,))
    first = worker.post(url, {"unit": unit.pk, **data, **files}, HTTP_IDEMPOTENCY_KEY="api-key-00000001")
    assert first.status_code == 201, first.content
    number = [r["case"] for r in first.json()["results"] if r["result"] == "fail"][0]
    assert number
    with tenant_context(fire.shangcheng):
        data, files = answers(unit, fail=(3,))
    second = worker.post(url, {"unit": unit.pk, **data, **files}, HTTP_IDEMPOTENCY_KEY="api-key-00000001")
    assert second.status_code == 200 and second.json()["id"] == first.json()["id"]
    with tenant_context(fire.shangcheng):
        case = Case.objects.get(number=number)
        _dispatch_and_handle(case.pk)
        data, files = answers(unit)
    third = worker.post(url, {"unit": unit.pk, "client_key": "api-key-00000002", **data, **files})
    assert third.status_code == 201 and third.json()["outcome"] == "passed"
    with tenant_context(fire.shangcheng):
        case.refresh_from_db()
        assert case.status == "closed"
    admin = client_for(fire, "shangcheng_admin")
    detail = admin.get(f"/api/v1/p/fire_safety/units/{unit.pk}/").json()
    assert [i["outcome"] for i in detail["history"]] == ["passed", "failed"] and detail["open_hazards"] == 0
    listed = admin.get("/api/v1/p/fire_safety/units/?risk=" + detail["risk_level"]).json()
    assert unit.code in [u["code"] for u in listed["results"]]
    assert admin.get("/api/v1/p/fire_safety/inspections/?outcome=failed").json()["count"] == 1
    schema = admin.get("/api/schema/").content.decode()
    assert "fire_safety_inspections_create" in schema and "fire_safety_units_list" in schema


def test_bad_input_is_refused_and_stores_nothing(fire):
    with tenant_context(fire.shangcheng):
        unit = make_unit("FS-T006", kind="small_shop")
        worker = staff("shangcheng_gridworker")
        items = checklist(unit.kind)
        cases = [
            (answers(unit, fail=(0,), photos=False), f"item-{items[0].pk}-photo"),
            ((lambda d: ({k: v for k, v in d[0].items() if k != f"item-{items[1].pk}"}, d[1]))(answers(unit)),
             f"item-{items[1].pk}"),
            ((dict(answers(unit)[0], latitude="91", longitude="120"), {}), "location"),
            ((dict(answers(unit)[0], latitude="nan", longitude="120"), {}), "location"),
            ((dict(answers(unit)[0], latitude="", longitude=""), {}), "location"),
            ((dict(answers(unit)[0], note="bad\x00note"), {}), "note"),
            ((dict(answers(unit)[0], **{f"item-{items[0].pk}": "maybe"}), {}), f"item-{items[0].pk}"),
        ]
        not_photo = answers(unit, fail=(0,), photos=False)
        from django.core.files.uploadedfile import SimpleUploadedFile

        not_photo[1][f"item-{items[0].pk}-photo"] = SimpleUploadedFile("x.jpg", b"<script>alert(1)</script>")
        cases.append((not_photo, f"item-{items[0].pk}-photo"))
        from django.core.exceptions import ValidationError

        for (data, files), field in cases:
            with pytest.raises(ValidationError) as refused:
                actions.inspect_unit(staff=worker, unit_id=unit.pk, data=data, files=files, client_key="")
            assert field in refused.value.message_dict, (field, refused.value.message_dict)
        assert not Inspection.objects.filter(unit=unit).exists()
        with pytest.raises(ValidationError):
            actions.inspect_unit(staff=worker, unit_id=unit.pk, data=answers(unit)[0], files={}, client_key="a b")
    worker_client = client_for(fire, "shangcheng_gridworker")
    with tenant_context(fire.shangcheng):
        data, files = answers(unit, fail=(0,), photos=False)
    refused = worker_client.post("/api/v1/p/fire_safety/inspections/", {"unit": unit.pk, **data},
                                 HTTP_IDEMPOTENCY_KEY="api-key-bad-0001")
    assert refused.status_code == 400 and f"item-{items[0].pk}-photo" in refused.json()
    assert worker_client.post("/api/v1/p/fire_safety/inspections/", {"unit": unit.pk, **data}).status_code == 400


def test_risk_levels_follow_the_history(fire):
    with tenant_context(fire.shangcheng):
        shop = make_unit("FS-R001", kind="small_shop")          # 0 + never inspected 1 → low
        make_unit("FS-R002", kind="rental_house")      # 2 + 1 → medium
        busy = make_unit("FS-R003", kind="small_lodging")       # 1 + 2 open hazards (4) + 2 failed → high
        worker = staff("shangcheng_gridworker")
        data, files = answers(busy, fail=(0, 1))
        actions.inspect_unit(staff=worker, unit_id=busy.pk, data=data, files=files, client_key="risk-key-0001")
        data, files = answers(shop)
        actions.inspect_unit(staff=worker, unit_id=shop.pk, data=data, files=files, client_key="risk-key-0002")
        RiskUnit.objects.update(risk_level="low", risk_computed_on=None)
        assert recompute_risk_levels() >= 3
        levels = dict(RiskUnit.objects.filter(code__startswith="FS-R").values_list("code", "risk_level"))
        assert levels == {"FS-R001": "low", "FS-R002": "medium", "FS-R003": "high"}
        assert not RiskUnit.objects.filter(code__startswith="FS-R", risk_computed_on__isnull=True).exists()
        assert recompute_risk_levels([shop.pk]) == 0 and recompute_risk_levels([]) == 0  # nothing changed
        RiskUnit.objects.filter(pk=shop.pk).update(risk_level="high")
        assert recompute_risk_levels([shop.pk]) == 1


def test_the_demo_seeds_units_and_one_open_hazard_case_twice_the_same(fire):
    from civicgrid.plugins.builtin.fire_safety.demo import seed_demo

    with tenant_context(fire.shangcheng):
        seed_demo(tenant=fire.shangcheng)
        seed_demo(tenant=fire.shangcheng)
        assert RiskUnit.objects.count() >= 3
        assert Inspection.objects.count() == 2
        open_hazards = Hazard.objects.filter(status="open")
        assert open_hazards.count() == 1 and open_hazards.get().case.is_open
