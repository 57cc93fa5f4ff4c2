"""What follows a failed item whose case has moved on (``checklists.follow_up``): a case
closed without a re-inspection reopens, one closed too long ago or rejected gives way to a
new case; two inspections of one unit at the same moment failing the same item make one
hazard and one case (no 500); the phone's list puts high-risk units first."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import close_old_connections, connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from civicgrid.platform.cases import actions as case_actions
from civicgrid.platform.cases.models import Case, CaseEvent
from civicgrid.plugins.builtin.fire_safety import actions
from civicgrid.plugins.builtin.fire_safety.models import Hazard, Inspection, RiskUnit

from .conftest import answers, client_for, discard_unit, ensure_people, make_unit, staff, switch_on


def _fail_first(unit, key):
    data, files = answers(unit, fail=(0,))
    return actions.inspect_unit(staff=staff("shangcheng_gridworker"), unit_id=unit.pk, data=data, files=files,
                                client_key=key)[0]


def _handle_and_close(case_id):
    operator, handler = staff("shangcheng_operator"), staff("fire_handler")
    case_actions.accept_case(staff=operator, case_id=case_id)
    case_actions.dispatch_case(staff=operator, case_id=case_id, department="D-FIRE")
    case_actions.start_case(staff=handler, case_id=case_id)
    case_actions.handle_case(staff=handler, case_id=case_id, result="已整改")
    return case_actions.close_case(staff=operator, case_id=case_id, comment="已办结")


@pytest.mark.django_db
def test_a_case_closed_without_reinspection_reopens_when_the_item_fails_again(fire):
    with tenant_context(fire.shangcheng):
        unit = make_unit("FS-F001")
        _fail_first(unit, "follow-key-0001")
        hazard = Hazard.objects.get(unit=unit)
        _handle_and_close(hazard.case_id)
        again = _fail_first(unit, "follow-key-0002")
        hazard.refresh_from_db()
        case = Case.objects.get(pk=hazard.case_id)
        assert hazard.status == "open" and case.status == "reopened"
        assert again.number in case.events.get(action="reopen").comment
        assert Hazard.objects.filter(unit=unit).count() == 1 and Case.objects.filter(
            title__startswith=unit.name).count() == 1
        # Failing once more while the reopened case is open: a note, nothing new.
        third = _fail_first(unit, "follow-key-0003")
        assert CaseEvent.objects.filter(case=case, action="verify", data__inspection=third.pk,
                                        data__result="fail").exists()
        assert Case.objects.filter(title__startswith=unit.name).count() == 1


@pytest.mark.django_db
def test_failing_again_before_the_case_was_handled_stays_on_that_case(fire):
    with tenant_context(fire.shangcheng):
        unit = make_unit("FS-F003")
        _fail_first(unit, "follow-key-0201")
        hazard = Hazard.objects.get(unit=unit)
        data, files = answers(unit)  # every item passes: found rectified, the case not handled yet
        actions.inspect_unit(staff=staff("shangcheng_gridworker"), unit_id=unit.pk, data=data, files=files,
                             client_key="follow-key-0202")
        hazard.refresh_from_db()
        assert hazard.status == "rectified"
        again = _fail_first(unit, "follow-key-0203")
        hazard.refresh_from_db()
        assert hazard.status == "open" and hazard.rectified_in is None
        assert Hazard.objects.filter(unit=unit).count() == 1
        assert Case.objects.filter(title__startswith=unit.name).count() == 1
        assert CaseEvent.objects.filter(case_id=hazard.case_id, action="verify", data__inspection=again.pk,
                                        data__result="fail").exists()
        # Handled now, the case stays open: the hazard is back until a re-inspection finds it gone.
        operator, handler = staff("shangcheng_operator"), staff("fire_handler")
        case_actions.accept_case(staff=operator, case_id=hazard.case_id)
        case_actions.dispatch_case(staff=operator, case_id=hazard.case_id, department="D-FIRE")
        case_actions.start_case(staff=handler, case_id=hazard.case_id)
        case_actions.handle_case(staff=handler, case_id=hazard.case_id, result="已整改")
        assert actions.close_verified(hazard.case_id) is None
        assert Case.objects.get(pk=hazard.case_id).status == "handled"


@pytest.mark.django_db
def test_a_case_closed_too_long_ago_or_rejected_gives_way_to_a_new_case(fire):
    with tenant_context(fire.shangcheng):
        unit = make_unit("FS-F002")
        _fail_first(unit, "follow-key-0101")
        hazard = Hazard.objects.get(unit=unit)
        first = _handle_and_close(hazard.case_id)
        Case.objects.filter(pk=first.pk).update(
            closed_at=timezone.now() - timedelta(days=case_actions.REOPEN_DAYS + 1))
        _fail_first(unit, "follow-key-0102")
        hazard.refresh_from_db()
        assert hazard.status == "open" and hazard.case_id != first.pk
        assert Case.objects.get(pk=first.pk).status == "closed"
        second = Case.objects.get(pk=hazard.case_id)
        assert second.status == "reported" and second.source == "inspection"

        case_actions.reject_case(staff=staff("shangcheng_operator"), case_id=second.pk, reason="重复")
        _fail_first(unit, "follow-key-0103")
        hazard.refresh_from_db()
        assert hazard.case_id not in (first.pk, second.pk)
        assert Case.objects.get(pk=hazard.case_id).status == "reported"
        assert Hazard.objects.filter(unit=unit).count() == 1


@pytest.mark.django_db
def test_the_phone_list_puts_high_risk_units_first(fire):
    with tenant_context(fire.shangcheng):
        for code, level in (("FS-O1", "medium"), ("FS-O2", "low"), ("FS-O3", "high"), ("FS-O4", "medium")):
            make_unit(code, kind="small_shop")
            RiskUnit.objects.filter(code=code).update(risk_level=level)
    page = client_for(fire, "shangcheng_gridworker").get("/p/fire_safety/m/")
    assert page.status_code == 200
    html = page.content.decode()
    order = sorted(("FS-O1", "FS-O2", "FS-O3", "FS-O4"), key=lambda code: html.index(f'data-unit="{code}"'))
    assert order == ["FS-O3", "FS-O1", "FS-O4", "FS-O2"]


CODE = "FS-RACE-1"


def test_two_inspections_of_one_unit_at_once_failing_the_same_item_make_one_hazard_and_one_case(committed):
    """Two grid workers' phones send at the same moment (two connections, committed, two
    device keys): the second waits on the unit's row, then finds the first's open hazard."""
    world = committed
    switch_on(world)
    try:
        with tenant_context(world.shangcheng):
            ensure_people()
            unit = make_unit(CODE, kind="small_shop")
        statuses, problems = [], []
        barrier = threading.Barrier(2)

        def send(n):
            try:
                with tenant_context(world.shangcheng):
                    data, files = answers(unit, fail=(0,))
                worker = client_for(world, "shangcheng_gridworker")
                barrier.wait()
                statuses.append(worker.post("/api/v1/p/fire_safety/inspections/", {"unit": unit.pk, **data, **files},
                                            HTTP_IDEMPOTENCY_KEY=f"race-key-000{n}").status_code)
            except Exception as exc:  # a 500 is raised by the test client
                problems.append(repr(exc))
            finally:
                close_old_connections()
                connection.close()

        threads = [threading.Thread(target=send, args=(n,)) for n in (1, 2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert problems == [] and statuses == [201, 201]
        with tenant_context(world.shangcheng):
            assert Inspection.objects.filter(unit__code=CODE).count() == 2
            hazards = Hazard.objects.filter(unit__code=CODE)
            assert hazards.count() == 1 and hazards.get().status == "open"
            case = hazards.get().case
            assert Case.objects.filter(title__startswith=unit.name).count() == 1
            # The second inspection's failure is a note on the one case.
            assert CaseEvent.objects.filter(case=case, action="verify", data__result="fail").count() == 1
    finally:
        discard_unit(world, CODE)
