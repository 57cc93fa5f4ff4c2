"""The console's case pages: lists scoped per role, filters and lights, the report
form with photos, a case's page offering only what the actor may do, every action
posted by the right role (and refused to the wrong role and the wrong tenant), and
stale forms refused with a message."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context
from PIL import Image

from civicgrid.platform.accounts.actions import create_staff_member
from civicgrid.platform.accounts.staff.models import StaffProfile, StaffRole
from civicgrid.platform.cases import actions, views
from civicgrid.platform.cases.models import Attachment, Case, CaseEvent, Level, Source, Status
from civicgrid.platform.cases.tasks import make_thumbnails
from civicgrid.platform.org.models import Department, OrgUnit
from tests.search.helpers import index_now
from tests.world import PASSWORD

ROUTES_COVERED = {
    "case-list": "test_pages_refuse_another_tenant_and_other_roles",
    "case-new": "test_pages_refuse_another_tenant_and_other_roles",
    "case-detail": "test_pages_refuse_another_tenant_and_other_roles",
    "case-file": "test_pages_refuse_another_tenant_and_other_roles",
    "case-thumbnail": "test_pages_refuse_another_tenant_and_other_roles",
    "case-action": "test_each_action_for_the_right_role_only",
}

SHANGCHENG, YUHANG = "shangcheng.localhost", "yuhang.localhost"
IN_G01 = {"latitude": 30.245, "longitude": 120.175}  # T01-C01-G01
IN_T02 = {"latitude": 30.245, "longitude": 120.195}  # T02-C01-G01, another township


# --- the world for these tests ------------------------------------------------------------


def staff(username: str) -> StaffProfile:
    return StaffProfile.objects.select_related("user", "scope_org_unit", "scope_department").get(
        user__username=username)


def member(username: str, role: str, *, unit: str = "", department: str = "") -> StaffProfile:
    if not StaffProfile.objects.filter(user__username=username).exists():
        create_staff_member(username=username, password=PASSWORD, role=role,
                            scope_org_unit=OrgUnit.objects.get(code=unit) if unit else None,
                            scope_department=Department.objects.get(code=department) if department else None,
                            acting_user=None)
    return staff(username)


def report(by: str = "shangcheng_gridworker", **extra) -> Case:
    values = {"category": "DSP-NEIGHBOUR", "title": "楼上漏水邻里争吵", "description": "两户因漏水争执",
              "source": Source.GRID_WORKER, **IN_G01, **extra}
    return actions.report_case(staff=staff(by), **values)


@pytest.fixture
def sc(world):
    """Shangcheng with the extra staff these pages need; the test runs in its schema."""
    with tenant_context(world.shangcheng):
        member("cp_jus", StaffRole.DEPARTMENT_HANDLER, department="D-JUS")
        member("cp_psb", StaffRole.DEPARTMENT_HANDLER, department="D-PSB")
        member("cp_t02", StaffRole.TOWNSHIP_OPERATOR, unit="T02")
        member("cp_community", StaffRole.COMMUNITY_OPERATOR, unit="T01-C01")
        member("cp_auditor", StaffRole.AUDITOR)
        before = set(Attachment.objects.values_list("pk", flat=True))
        yield world
        # Files are not part of the rolled-back transaction.
        for item in Attachment.objects.exclude(pk__in=before):
            for name in filter(None, (item.file, item.thumbnail)):
                default_storage.delete(name)


def client(world, username: str, host: str = SHANGCHENG) -> Client:
    signed_in = Client(HTTP_HOST=host, HTTP_ACCEPT_LANGUAGE="en")
    signed_in.force_login(world.user(username))
    return signed_in


def in_schema(world, fn):
    """Requests move the connection's schema; checks go back to shangcheng explicitly."""
    with tenant_context(world.shangcheng):
        return fn()


def listed(response) -> list[str]:
    assert response.status_code == 200, response.content.decode()[:500]
    return re.findall(r'<tr data-case="([^"]+)"', response.content.decode())


def offered(response) -> list[str]:
    return re.findall(r'data-action="([a-z_]+)"', response.content.decode())


def jpeg(width=64, height=48, colour=(200, 40, 30)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, "JPEG")
    return SimpleUploadedFile("现场.jpg", buffer.getvalue(), content_type="image/jpeg")


def state(case_id) -> tuple:
    case = Case.objects.get(pk=case_id)
    return case.status, case.version, case.level, case.department_id, CaseEvent.objects.filter(case=case).count()


def at(moment):
    """The views' clock, moved: lights are judged against it."""
    return SimpleNamespace(now=lambda: moment)


# --- the list ------------------------------------------------------------------------------


def test_the_list_shows_each_role_its_own_cases(sc):
    world = sc
    mine = report()
    elsewhere = report(by="shangcheng_operator", source=Source.HOTLINE_12345, title="凤起路噪音",
                       category="ENV-NOISE-NEIGHBOUR", **IN_T02)
    operator = staff("shangcheng_operator")
    actions.accept_case(staff=operator, case_id=mine.pk)
    actions.dispatch_case(staff=operator, case_id=mine.pk, department="D-JUS")

    def numbers(username):
        return set(listed(client(world, username).get("/cases/")))

    both = {mine.number, elsewhere.number}
    assert both <= numbers("shangcheng_operator") and both <= numbers("shangcheng_admin")
    assert both <= numbers("cp_auditor")
    worker = numbers("shangcheng_gridworker")
    assert mine.number in worker and elsewhere.number not in worker
    assert elsewhere.number in numbers("cp_t02") and mine.number not in numbers("cp_t02")
    assert mine.number in numbers("cp_community") and elsewhere.number not in numbers("cp_community")
    assert mine.number in numbers("cp_jus") and elsewhere.number not in numbers("cp_jus")
    assert not both & numbers("cp_psb")
    # The auditor reads but does not report.
    page = client(world, "cp_auditor").get("/cases/").content.decode()
    assert 'href="/cases/new/"' not in page
    assert 'href="/cases/new/"' in client(world, "shangcheng_gridworker").get("/cases/").content.decode()


def test_filters_lights_sorting_and_pages(sc, monkeypatch):
    world = sc
    first = report(title="第一件 漏水")
    second = report(title="第二件 噪音", category="ENV-NOISE-NEIGHBOUR")
    third = report(by="shangcheng_operator", source=Source.HOTLINE_12345, title="第三件", **IN_T02)
    operator = staff("shangcheng_operator")
    actions.accept_case(staff=operator, case_id=third.pk)
    third = actions.dispatch_case(staff=operator, case_id=third.pk, department="D-PSB")
    first, second = Case.objects.get(pk=first.pk), Case.objects.get(pk=second.pk)
    ours = {first.number, second.number, third.number}
    op = client(world, "shangcheng_operator")

    def shown(query):
        return [n for n in listed(op.get(f"/cases/?{query}")) if n in ours]

    index_now()  # words are searched in the index the outbox keeps
    assert shown("q=第二件") == [second.number]
    assert shown(f"q={third.number}") == [third.number]
    assert set(shown("status=dispatched")) == {third.number}
    assert set(shown("status=open")) == ours
    assert set(shown("category=DSP-NEIGHBOUR")) == {first.number, third.number}
    assert set(shown("category=ENV-NOISE-NEIGHBOUR")) == {second.number}
    assert set(shown("department=D-PSB")) == {third.number}
    assert set(shown("grid=T02")) == {third.number}
    assert set(shown("grid=T01-C01-G01")) == {first.number, second.number}
    assert shown("mine=on") == [third.number]
    # Reported cases are due to be accepted long before a dispatched one is due to be handled.
    assert shown("")[-1] == third.number and shown("sort=newest")[0] == third.number
    # A question the form cannot answer lists nothing rather than everything.
    refused = op.get("/cases/?grid=NO-SUCH&status=bogus")
    assert refused.status_code == 200 and listed(refused) == [] and "errorlist" in refused.content.decode()

    # Lights follow the views' clock against the stored deadlines: the text says it, not only the colour.
    monkeypatch.setattr(views, "timezone", at(first.accept_warn_at + timedelta(seconds=1)))
    assert first.number in shown("light=yellow") and first.number not in shown("light=green") + shown("light=red")
    assert third.number in shown("light=green")
    page = op.get("/cases/?q=第一件").content.decode()
    assert "light-yellow" in page and "Yellow · due soon" in page
    monkeypatch.setattr(views, "timezone", at(max(first.accept_due, second.accept_due) + timedelta(minutes=1)))
    assert set(shown("light=red")) == {first.number, second.number} and shown("light=yellow") == []
    assert "Red · overdue" in op.get("/cases/?q=第一件").content.decode()
    monkeypatch.setattr(views, "timezone", at(third.handle_due + timedelta(minutes=1)))
    assert set(shown("light=red")) == ours

    monkeypatch.setattr(views, "PAGE_SIZE", 1)
    page_one = op.get("/cases/?status=open").content.decode()
    assert re.search(r"Page 1 of \d+", page_one) and "status=open&amp;page=2" in page_one
    assert len(listed(op.get("/cases/?status=open&page=2"))) == 1


# --- reporting -----------------------------------------------------------------------------


def test_a_grid_worker_reports_with_photos(sc):
    world = sc
    worker = client(world, "shangcheng_gridworker")
    form = worker.get("/cases/new/").content.decode()
    assert 'capture="environment"' in form and 'accept="image/*"' in form and "multiple" in form
    assert "<optgroup" in form and "DSP-NEIGHBOUR" in form
    assert 'name="source"' not in form  # a grid worker reports what they see
    response = worker.post("/cases/new/", {
        "category": "DSP-NEIGHBOUR", "title": "楼道堆物", "description": "三楼楼道堆满杂物", "address": "解放路1号",
        "urgency": "", "photos": [jpeg(), jpeg(colour=(20, 90, 200))], **IN_G01})
    assert response.status_code == 302, response.content.decode()[:3000]
    case = in_schema(world, lambda: Case.objects.get(title="楼道堆物"))
    assert response["Location"] == f"/cases/{case.pk}/"
    with tenant_context(world.shangcheng):
        assert (case.source, case.status, case.grid.code, case.level) == (
            Source.GRID_WORKER, Status.REPORTED, "T01-C01-G01", Level.COMMUNITY)
        files = list(case.attachments.order_by("pk"))
        assert len(files) == 2 and {f.event.action for f in files} == {"report"}
        # Thumbnails are the worker's, after the commit: until then the page shows the photo itself.
        assert all(f.kind == "image" and not f.thumbnail for f in files)
    first_page = worker.get(response["Location"]).content.decode()
    assert f'src="/cases/{case.pk}/files/{files[0].pk}/"' in first_page
    early = worker.get(f"/cases/{case.pk}/files/{files[0].pk}/thumbnail/")  # the photo itself, for now
    assert early.status_code == 200 and b"".join(early.streaming_content)[:2] == b"\xff\xd8"
    with tenant_context(world.shangcheng):
        assert make_thumbnails.run([f.pk for f in files]) == 2 and make_thumbnails.run([f.pk for f in files]) == 0
        files = list(case.attachments.order_by("pk"))
        assert all(f.thumbnail.endswith(".thumb.jpg") for f in files)

    page = worker.get(response["Location"]).content.decode()
    assert case.number in page and "楼道堆物" in page
    thumbnail = worker.get(f"/cases/{case.pk}/files/{files[0].pk}/thumbnail/")
    photo = worker.get(f"/cases/{case.pk}/files/{files[0].pk}/")
    assert thumbnail.status_code == 200 and thumbnail["Content-Type"] == "image/jpeg"
    assert photo.status_code == 200 and b"".join(photo.streaming_content)[:2] == b"\xff\xd8"
    assert f"/cases/{case.pk}/files/{files[0].pk}/thumbnail/" in page
    assert case.number in listed(worker.get("/cases/?mine=on"))


def test_an_operator_takes_a_call_at_the_desk(sc):
    world = sc
    desk = client(world, "shangcheng_operator")
    assert 'name="reporter_phone"' in desk.get("/cases/new/").content.decode()
    response = desk.post("/cases/new/", {"category": "ENV-NOISE-NEIGHBOUR", "title": "夜间施工噪音",
                                         "address": "中山路8号", "source": Source.HOTLINE_12345,
                                         "reporter_name": "王先生", "reporter_phone": "13812345678"})
    assert response.status_code == 302
    case = in_schema(world, lambda: Case.objects.get(title="夜间施工噪音"))
    assert case.source == Source.HOTLINE_12345 and case.level == Level.COUNTY and case.grid is None
    page = desk.get(response["Location"]).content.decode()
    assert "138****5678" in page and "13812345678" not in page
    # Those who do not call reporters back do not see the number at all.
    assert "138****5678" not in client(world, "cp_auditor").get(response["Location"]).content.decode()


def test_bad_reports_show_the_reasons_and_store_nothing(sc):
    world = sc
    worker = client(world, "shangcheng_gridworker")
    count = in_schema(world, lambda: (Case.objects.count(), Attachment.objects.count(), CaseEvent.objects.count()))

    empty = worker.post("/cases/new/", {"category": "", "title": ""})
    assert empty.status_code == 400
    assert "The report was not sent" in empty.content.decode() and "This field is required." in empty.content.decode()

    nowhere = worker.post("/cases/new/", {"category": "DSP-NEIGHBOUR", "title": "无位置"})
    assert nowhere.status_code == 400 and "Give the location" in nowhere.content.decode()

    half = worker.post("/cases/new/", {"category": "DSP-NEIGHBOUR", "title": "半个坐标", "latitude": "30.2"})
    assert half.status_code == 400 and "Give both latitude and longitude" in half.content.decode()

    script = SimpleUploadedFile("photo.jpg", b"#!/bin/sh\nrm -rf /\n", content_type="image/jpeg")
    bad_photo = worker.post("/cases/new/", {"category": "DSP-NEIGHBOUR", "title": "坏照片", **IN_G01,
                                            "photos": [jpeg(), script]})
    text = bad_photo.content.decode()
    assert bad_photo.status_code == 400 and "photo.jpg:" in text and "choose them again" in text
    assert 'value="坏照片"' in text  # what was typed is kept

    assert in_schema(world, lambda: (Case.objects.count(), Attachment.objects.count(),
                                     CaseEvent.objects.count())) == count


# --- a case and its actions ------------------------------------------------------------------


def test_a_case_offers_only_what_the_actor_may_do(sc):
    world = sc
    case = report()
    assert offered(client(world, "shangcheng_operator").get(f"/cases/{case.pk}/")) == [
        "accept", "transfer_tenant", "escalate", "supervise", "link_duplicate", "reject"]
    # A community operator coordinates a case held in the community, but does not supervise.
    assert offered(client(world, "cp_community").get(f"/cases/{case.pk}/")) == [
        "accept", "escalate", "link_duplicate", "reject"]
    for username in ("shangcheng_gridworker", "cp_auditor"):
        page = client(world, username).get(f"/cases/{case.pk}/")
        assert page.status_code == 200 and offered(page) == []

    with tenant_context(world.shangcheng):
        operator = staff("shangcheng_operator")
        actions.accept_case(staff=operator, case_id=case.pk)
        actions.dispatch_case(staff=operator, case_id=case.pk, department="D-JUS")
    assert offered(client(world, "cp_jus").get(f"/cases/{case.pk}/")) == ["start", "request_extension", "return"]
    assert offered(client(world, "shangcheng_operator").get(f"/cases/{case.pk}/")) == [
        "transfer", "escalate", "supervise"]
    in_schema(world, lambda: actions.request_extension(staff=staff("cp_jus"), case_id=case.pk, hours=8,
                                                       reason="需要鉴定"))
    assert offered(client(world, "cp_jus").get(f"/cases/{case.pk}/")) == ["start", "return"]
    assert "decide_extension" in offered(client(world, "shangcheng_operator").get(f"/cases/{case.pk}/"))


def _reported(world):
    return report()


def _accepted(world):
    case = report()
    return actions.accept_case(staff=staff("shangcheng_operator"), case_id=case.pk)


def _dispatched(world):
    case = _accepted(world)
    return actions.dispatch_case(staff=staff("shangcheng_operator"), case_id=case.pk, department="D-JUS")


def _extension_asked(world):
    case = _dispatched(world)
    return actions.request_extension(staff=staff("cp_jus"), case_id=case.pk, hours=8, reason="需要鉴定")


def _in_progress(world):
    case = _dispatched(world)
    return actions.start_case(staff=staff("cp_jus"), case_id=case.pk)


def _handled(world):
    case = _in_progress(world)
    return actions.handle_case(staff=staff("cp_jus"), case_id=case.pk, result="已调解")


def _closed(world):
    case = _handled(world)
    return actions.close_case(staff=staff("shangcheng_operator"), case_id=case.pk)


def _duplicate(world):
    report(title="原始报告")
    return report(title="重复报告")


def _later():
    return (timezone.localtime() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")


# action, how to bring a case there, who may, a role that sees the case but may not, input, what it leads to
ACTION_CASES = [
    ("accept", _reported, "shangcheng_operator", "shangcheng_gridworker", {},
     lambda c: c.status == Status.ACCEPTED),
    ("reject", _reported, "shangcheng_operator", "shangcheng_gridworker", {"reason": "不属于事件"},
     lambda c: c.status == Status.REJECTED),
    ("dispatch", _accepted, "shangcheng_operator", "cp_auditor", {"department": "D-PSB"},
     lambda c: c.status == Status.DISPATCHED and c.department.code == "D-PSB"),
    ("start", _dispatched, "cp_jus", "shangcheng_operator", {},
     lambda c: c.status == Status.IN_PROGRESS),
    ("return", _dispatched, "cp_jus", "shangcheng_operator", {"reason": "不属本部门"},
     lambda c: c.status == Status.RETURNED and c.department is None),
    ("request_extension", _dispatched, "cp_jus", "shangcheng_operator", {"hours": "8", "reason": "需要鉴定"},
     lambda c: c.extensions.filter(granted__isnull=True, hours=8).exists()),
    ("decide_extension", _extension_asked, "shangcheng_operator", "cp_jus", {"grant": "yes"},
     lambda c: c.extensions.get().granted is True),
    ("handle", _in_progress, "cp_jus", "shangcheng_operator", {"result": "已调解，双方签字"},
     lambda c: c.status == Status.HANDLED and c.attachments.get().event.action == "handle"),
    ("escalate", _reported, "cp_community", "shangcheng_gridworker", {"reason": "社区调解不成"},
     lambda c: c.status == Status.ESCALATED and c.level == Level.TOWNSHIP),
    ("transfer", _dispatched, "shangcheng_operator", "cp_jus", {"department": "D-PSB", "reason": "治安问题"},
     lambda c: c.department.code == "D-PSB"),
    ("transfer_tenant", _accepted, "shangcheng_operator", "cp_community",
     {"division_code": "330110", "reason": "问题点位于余杭区境内"},
     lambda c: c.status == Status.TRANSFERRED and c.transferred_to.startswith("yuhang:")),
    ("rate", _handled, "shangcheng_operator", "shangcheng_gridworker", {"rating": "4", "comment": "满意"},
     lambda c: c.rating == 4),
    ("close", _handled, "shangcheng_operator", "cp_jus", {},
     lambda c: c.status == Status.CLOSED),
    ("reopen", _closed, "shangcheng_operator", "cp_community", {"reason": "问题复发"},
     lambda c: c.status == Status.REOPENED),
    ("supervise", _dispatched, "shangcheng_operator", "cp_jus", {"order": "三日内办结", "card": "yellow"},
     lambda c: c.supervisions.get().card == "yellow"),
    ("link_duplicate", _duplicate, "shangcheng_operator", "shangcheng_gridworker", {},
     lambda c: c.status == Status.MERGED and c.duplicate_of.title == "原始报告"),
]


@pytest.mark.parametrize("action, prepare, right, wrong, data, done", ACTION_CASES, ids=[c[0] for c in ACTION_CASES])
def test_each_action_for_the_right_role_only(sc, action, prepare, right, wrong, data, done):
    world = sc
    with tenant_context(world.shangcheng):
        case = prepare(world)
        fields = dict(data, version=case.version)
        if action == "supervise":
            fields["due_at"] = _later()
        if action == "link_duplicate":
            fields["original"] = Case.objects.get(title="原始报告").number
        before = state(case.pk)
    url = f"/cases/{case.pk}/{action}/"

    def payload():  # an uploaded file is read once: a fresh photo for every post
        return dict(fields, photos=[jpeg()]) if action == "handle" else fields

    # Seeing the case is not enough; another county's staff, on either host, find nothing.
    assert client(world, wrong).get(f"/cases/{case.pk}/").status_code == 200
    assert action not in offered(client(world, wrong).get(f"/cases/{case.pk}/"))
    assert client(world, wrong).post(url, payload()).status_code == 404
    assert client(world, "yuhang_operator").post(url, payload()).status_code == 404
    assert client(world, "shangcheng_operator", YUHANG).post(url, payload()).status_code == 404
    assert client(world, "prov_admin").post(url, payload()).status_code == 404
    assert in_schema(world, lambda: state(case.pk)) == before

    who = client(world, right)
    assert action in offered(who.get(f"/cases/{case.pk}/"))
    response = who.post(url, payload())
    assert response.status_code == 302, response.content.decode()[:3000]
    with tenant_context(world.shangcheng):
        changed = Case.objects.get(pk=case.pk)
        assert done(changed) and changed.version == case.version + 1
    assert f"Case {case.number}:" in who.get(response["Location"]).content.decode()


def test_unknown_actions_and_gets_are_not_found(sc):
    world = sc
    case = report()
    operator = client(world, "shangcheng_operator")
    assert operator.post(f"/cases/{case.pk}/explode/", {"version": case.version}).status_code == 404
    assert operator.get(f"/cases/{case.pk}/accept/").status_code == 405
    assert operator.post("/cases/999999/accept/", {"version": 1}).status_code == 404


def test_a_stale_form_changes_nothing_and_says_why(sc):
    world = sc
    case = report()
    operator = client(world, "shangcheng_operator")
    shown_version = case.version
    assert f'name="version" value="{shown_version}"' in operator.get(f"/cases/{case.pk}/").content.decode()
    in_schema(world, lambda: actions.accept_case(staff=staff("cp_community"), case_id=case.pk))  # someone else

    for action, data in (("accept", {}), ("reject", {"reason": "重复"}), ("escalate", {"reason": "x"})):
        before = in_schema(world, lambda: state(case.pk))
        response = operator.post(f"/cases/{case.pk}/{action}/", {"version": shown_version, **data})
        text = response.content.decode()
        assert response.status_code == 409 and "Someone else changed this case" in text
        assert in_schema(world, lambda: state(case.pk)) == before
        # The page now shows the case as it is, with what may be done now.
        assert "dispatch" in offered(response) and "accept" not in offered(response)
        assert f'name="version" value="{shown_version + 1}"' in text
    # The wrong role with a stale form still changes nothing.
    assert client(world, "shangcheng_gridworker").post(
        f"/cases/{case.pk}/dispatch/", {"version": shown_version + 1}).status_code == 404


def test_bad_action_input_is_shown_beside_the_form(sc):
    world = sc
    case = report()
    operator = client(world, "shangcheng_operator")
    before = in_schema(world, lambda: state(case.pk))
    response = operator.post(f"/cases/{case.pk}/reject/", {"version": case.version, "reason": " "})
    text = response.content.decode()
    assert response.status_code == 400 and "Say why this is not a case." in text
    assert re.search(r'<details class="card case-action" id="action-reject" data-action="reject" open>', text)
    past = (timezone.localtime() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    response = operator.post(f"/cases/{case.pk}/supervise/", {"version": case.version, "order": "办", "due_at": past})
    assert response.status_code == 400 and "must be in the future" in response.content.decode()
    bad = operator.post(f"/cases/{case.pk}/link_duplicate/", {"version": case.version, "original": "NOPE"})
    assert bad.status_code == 400 and "No case with this tracking number" in bad.content.decode()
    assert in_schema(world, lambda: state(case.pk)) == before


def test_a_refused_photo_undoes_the_handling(sc):
    world = sc
    case = in_schema(world, lambda: _in_progress(world))
    before = in_schema(world, lambda: state(case.pk))
    script = SimpleUploadedFile("result.jpg", b"<script>alert(1)</script>", content_type="image/jpeg")
    response = client(world, "cp_jus").post(f"/cases/{case.pk}/handle/", {
        "version": case.version, "result": "已处理", "photos": [jpeg(), script]})
    assert response.status_code == 400 and "result.jpg:" in response.content.decode()
    assert in_schema(world, lambda: (state(case.pk), Attachment.objects.filter(case=case.pk).count())) == (before, 0)


# --- who may open the pages at all ----------------------------------------------------------


def test_pages_refuse_another_tenant_and_other_roles(sc):
    world = sc
    with tenant_context(world.shangcheng):
        ours = report()
        far = report(by="shangcheng_operator", source=Source.HOTLINE_12345, title="别处", **IN_T02)
    response = client(world, "shangcheng_gridworker").post("/cases/new/", {
        "category": "DSP-NEIGHBOUR", "title": "带照片", "photos": [jpeg()], **IN_G01})
    assert response.status_code == 302
    with tenant_context(world.shangcheng):
        photo = Attachment.objects.get(case__title="带照片")
    file_url = f"/cases/{photo.case_id}/files/{photo.pk}/"
    pages = ["/cases/", "/cases/new/", f"/cases/{ours.pk}/", file_url, f"{file_url}thumbnail/"]
    assert all(client(world, "shangcheng_operator").get(url).status_code == 200 for url in pages)

    # Another county's operator here, and this county's operator on the other county's host.
    for username, host in (("yuhang_operator", SHANGCHENG), ("shangcheng_operator", YUHANG),
                           ("prov_admin", SHANGCHENG)):
        assert all(client(world, username, host).get(url).status_code == 404 for url in pages), username
    # Roles: the auditor reads but does not report; others find nothing outside their scope.
    assert client(world, "cp_auditor").get("/cases/new/").status_code == 404
    assert client(world, "cp_auditor").post("/cases/new/", {"category": "DSP-NEIGHBOUR", "title": "审计",
                                                            **IN_G01}).status_code == 404
    assert in_schema(world, lambda: Case.objects.filter(title="审计").exists()) is False
    for username in ("shangcheng_gridworker", "cp_psb", "cp_community"):
        assert client(world, username).get(f"/cases/{far.pk}/").status_code == 404, username
    for username in ("cp_t02", "cp_psb"):
        assert client(world, username).get(file_url).status_code == 404, username
        assert client(world, username).get(f"{file_url}thumbnail/").status_code == 404, username
    assert client(world, "shangcheng_operator").get(f"/cases/{ours.pk}/files/{photo.pk}/").status_code == 404
    # Nobody signed in goes to sign in.
    anonymous = Client(HTTP_HOST=SHANGCHENG).get("/cases/")
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]


def test_pages_are_chinese_by_default(sc):
    world = sc
    signed_in = Client(HTTP_HOST=SHANGCHENG)
    signed_in.force_login(world.user("shangcheng_operator"))
    assert 'lang="zh-hans"' in signed_in.get("/cases/").content.decode()
