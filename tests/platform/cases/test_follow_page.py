"""The reporter's link: follow a case and rate it once it is handled, without signing in."""

from __future__ import annotations

import uuid

from django.test import Client
from django.utils import translation
from django_tenants.utils import tenant_context

from civicgrid.platform.cases import actions
from civicgrid.platform.cases.models import Case, CaseEvent, Status

from .test_workflow import handler, report, staff

ROUTES_COVERED = {"case-follow": "test_the_link_works_only_on_its_own_county_and_rates_once"}


def handled_case(world) -> Case:
    with tenant_context(world.shangcheng), translation.override("en"):
        operator, jus = staff("shangcheng_operator"), handler("D-JUS")
        case = report(by="shangcheng_operator", source="hotline_12345", reporter_phone="13812345678",
                      reporter_name="王女士")
        actions.accept_case(staff=operator, case_id=case.pk)
        actions.dispatch_case(staff=operator, case_id=case.pk)
        actions.start_case(staff=jus, case_id=case.pk)
        return actions.handle_case(staff=jus, case_id=case.pk, result="已上门调解")


def test_the_link_works_only_on_its_own_county_and_rates_once(world):
    case = handled_case(world)
    url = f"/r/{case.token}/"
    own, other = Client(HTTP_HOST="shangcheng.localhost"), Client(HTTP_HOST="yuhang.localhost")

    page = own.get(url)
    text = page.content.decode()
    assert page.status_code == 200 and case.number in text and "已上门调解" in text
    assert "13812345678" not in text and "王女士" not in text  # nothing personal on a link
    assert other.get(url).status_code == 404
    assert other.post(url, {"rating": 1}).status_code == 404
    assert own.get(f"/r/{uuid.uuid4()}/").status_code == 404

    with tenant_context(world.shangcheng):
        events = CaseEvent.objects.filter(case=case).count()
    assert own.post(url, {"rating": 9}).status_code == 200  # not a rating: the form again
    assert own.post(url, {"rating": 4, "comment": "处理及时"}).status_code == 302
    with tenant_context(world.shangcheng):
        rated = Case.objects.get(pk=case.pk)
        assert (rated.rating, rated.rating_comment, rated.status) == (4, "处理及时", Status.HANDLED)
        assert CaseEvent.objects.filter(case=case).count() == events + 1
    assert own.post(url, {"rating": 1}).status_code == 404  # once only
    with tenant_context(world.shangcheng):
        assert Case.objects.get(pk=case.pk).rating == 4
