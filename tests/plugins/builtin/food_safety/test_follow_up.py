"""A failed item whose case has moved on is reported again (``checklists.follow_up``): a
case closed without a re-inspection reopens, one closed too long ago or rejected gives way
to a new case, and a failure while the case is open is noted on it; two inspections of one
business at the same moment failing the same item make one finding and one case (no 500)."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest
from django.db import close_old_connections, connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from civicgrid.platform.cases import actions as case_actions
from civicgrid.platform.cases.models import Case, CaseEvent
from civicgrid.plugins.builtin.food_safety import actions
from civicgrid.plugins.builtin.food_safety.checklist import items_for
from civicgrid.plugins.builtin.food_safety.models import Finding, FoodCase, Inspection

from .conftest import answers, business_values, client, staff
from .test_loop import cleanup


def _fail(business, code="hygiene"):
    data, files = answers(items_for(business), fail={code})
    return actions.inspect_business(staff=staff("shangcheng_gridworker"), business_id=business.pk, data=data,
                                    files=files, client_key=str(uuid.uuid4()))[0]


def _handle_and_close(case_id):
    operator, handler = staff("shangcheng_operator"), staff("fs_samr")
    case_actions.accept_case(staff=operator, case_id=case_id)
    case_actions.dispatch_case(staff=operator, case_id=case_id)
    case_actions.start_case(staff=handler, case_id=case_id)
    case_actions.handle_case(staff=handler, case_id=case_id, result="已整改")
    return case_actions.close_case(staff=operator, case_id=case_id, comment="已办结")


@pytest.mark.django_db
def test_a_failure_after_the_case_closed_without_reinspection_reopens_it(food):
    with tenant_context(food.shangcheng):
        business = actions.register_business(staff=staff("shangcheng_admin"), **business_values())
        _fail(business)
        finding = Finding.objects.get()
        again = _fail(business)  # still open: a note on the case, nothing new
        assert CaseEvent.objects.filter(case_id=finding.case_id, action="verify", data__inspection=again.pk,
                                        data__result="fail").exists()
        assert FoodCase.objects.count() == 1
        _handle_and_close(finding.case_id)
        third = _fail(business)
        finding.refresh_from_db()
        case = Case.objects.get(pk=finding.case_id)
        assert finding.status == "open" and case.status == "reopened"
        assert third.number in case.events.get(action="reopen").comment
        assert Finding.objects.count() == 1 and FoodCase.objects.count() == 1


@pytest.mark.django_db
def test_a_failure_after_the_case_closed_long_ago_or_was_rejected_is_a_new_case(food):
    with tenant_context(food.shangcheng):
        business = actions.register_business(staff=staff("shangcheng_admin"), **business_values())
        _fail(business)
        finding = Finding.objects.get()
        first = _handle_and_close(finding.case_id)
        Case.objects.filter(pk=first.pk).update(
            closed_at=timezone.now() - timedelta(days=case_actions.REOPEN_DAYS + 1))
        _fail(business)
        finding.refresh_from_db()
        assert finding.status == "open" and finding.case_id != first.pk
        second = Case.objects.get(pk=finding.case_id)
        assert second.status == "reported" and second.category.code == "FOOD-HYGIENE"
        assert FoodCase.objects.get(case=second).business_id == business.pk

        case_actions.reject_case(staff=staff("shangcheng_operator"), case_id=second.pk, reason="重复")
        _fail(business)
        finding.refresh_from_db()
        assert finding.case_id not in (first.pk, second.pk)
        assert Case.objects.get(pk=finding.case_id).status == "reported"
        assert FoodCase.objects.filter(business=business).count() == 3 and Finding.objects.count() == 1


@pytest.mark.django_db
def test_a_failure_after_a_rectified_finding_whose_case_closed_reopens_that_case(food):
    with tenant_context(food.shangcheng):
        business = actions.register_business(staff=staff("shangcheng_admin"), **business_values())
        _fail(business)
        case_id = Finding.objects.get().case_id
        operator, handler = staff("shangcheng_operator"), staff("fs_samr")
        case_actions.accept_case(staff=operator, case_id=case_id)
        case_actions.dispatch_case(staff=operator, case_id=case_id)
        case_actions.start_case(staff=handler, case_id=case_id)
        case_actions.handle_case(staff=handler, case_id=case_id, result="已整改")
        data, files = answers(items_for(business))
        actions.inspect_business(staff=staff("shangcheng_gridworker"), business_id=business.pk, data=data,
                                 files=files, client_key=str(uuid.uuid4()))
        assert Case.objects.get(pk=case_id).status == "closed"
        _fail(business)
        assert Case.objects.get(pk=case_id).status == "reopened"
        assert list(Finding.objects.order_by("pk").values_list("status", "case_id")) == [
            ("rectified", case_id), ("open", case_id)]
        assert actions.close_verified(case_id) is None  # not while a finding of it is open


def test_two_inspections_of_one_business_at_once_failing_the_same_item_make_one_finding_and_one_case(committed):
    """Two phones send at the same moment with their own keys (two connections, committed):
    the second waits on the business's row, then finds the first's open finding."""
    from .conftest import ensure_people, switch_on

    world = committed
    switch_on(world)
    try:
        with tenant_context(world.shangcheng):
            ensure_people()
            business = actions.register_business(staff=staff("shangcheng_admin"), **business_values(
                licence_number="JY1330102RACE001"))
            items = items_for(business)
        statuses, problems = [], []
        barrier = threading.Barrier(2)

        def send():
            try:
                data, files = answers(items, fail={"hygiene"})
                worker = client(world, "shangcheng_gridworker")
                barrier.wait()
                statuses.append(worker.post("/api/v1/p/food_safety/inspections/",
                                            {"business": business.pk, **data, **files},
                                            HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4())).status_code)
            except Exception as exc:  # a 500 is raised by the test client
                problems.append(repr(exc))
            finally:
                close_old_connections()
                connection.close()

        threads = [threading.Thread(target=send) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert problems == [] and statuses == [201, 201]
        with tenant_context(world.shangcheng):
            assert Inspection.objects.filter(business=business).count() == 2
            finding = Finding.objects.get(business=business)
            assert finding.status == "open"
            assert FoodCase.objects.filter(business=business).count() == 1
            assert CaseEvent.objects.filter(case_id=finding.case_id, action="verify", data__result="fail").count() == 1
    finally:
        cleanup(world)
