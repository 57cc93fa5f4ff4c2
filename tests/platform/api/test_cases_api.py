"""The cases API over HTTP: the whole lifecycle, every operation refused to the wrong
role and to another county with nothing changed, conflicts, bad input in the
user's language, list scoping and filters, photos in the report's transaction,
the caller's notifications and the OpenAPI schema."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone, translation
from django_tenants.utils import tenant_context
from PIL import Image
from rest_framework.test import APIClient

from civicgrid.platform.accounts.actions import create_staff_member
from civicgrid.platform.accounts.staff.models import StaffRole
from civicgrid.platform.api.cases import OPERATIONS
from civicgrid.platform.cases import actions
from civicgrid.platform.cases.models import (
    Attachment,
    Case,
    CaseEvent,
    Category,
    ExtensionRequest,
    Supervision,
)
from civicgrid.platform.notifications.models import Notification
from tests.platform.cases.test_workflow import IN_G01, handler, report, staff
from tests.search.helpers import index_now

SHANGCHENG, YUHANG = "shangcheng.localhost", "yuhang.localhost"
API = "/api/v1"
SLUGS = [operation.slug for operation in OPERATIONS]
ROUTE_NAMES = ["api-cases", "api-cases-detail", "api-cases-suggested-department", "api-case-categories",
               "api-notifications", "api-notifications-read", *[f"api-cases-{slug}" for slug in SLUGS]]
ROUTES_COVERED = {name: "test_other_tenants_and_wrong_roles_get_404_everywhere" for name in ROUTE_NAMES}


def client(world, username: str | None, host: str = SHANGCHENG, language: str | None = None) -> APIClient:
    headers = {"HTTP_HOST": host}
    if language:
        headers["HTTP_ACCEPT_LANGUAGE"] = language
    http = APIClient(**headers)
    if username:
        http.force_login(world.user(username))
    return http


def post(http: APIClient, url: str, body: dict | None = None, headers: dict | None = None):
    return http.post(url, body or {}, format="json", headers=headers or {})


def snapshot(world, pk: int) -> tuple:
    """Everything an operation could change on a case."""
    with tenant_context(world.shangcheng):
        case = Case.objects.get(pk=pk)
        return (case.status, case.version, case.department_id, case.level, CaseEvent.objects.filter(case=case).count(),
                ExtensionRequest.objects.filter(case=case).count(), Supervision.objects.filter(case=case).count())


def bodies(original_id: int) -> dict[str, dict]:
    """A valid body for every operation, so that only who asks decides the answer."""
    due = (timezone.now() + timedelta(days=2)).isoformat()
    return {
        "accept": {}, "reject": {"reason": "不属于事件"}, "dispatch": {"department": "D-JUS"}, "start": {},
        "return": {"reason": "不属于本部门"}, "request-extension": {"hours": "8", "reason": "需要协调"},
        "decide-extension": {"grant": True}, "handle": {"result": "已调解"}, "escalate": {"reason": "需要上级协调"},
        "transfer": {"department": "D-PSB", "reason": "涉及治安"}, "rate": {"rating": 5}, "close": {},
        "reopen": {"reason": "群众反映未解决"}, "supervise": {"order": "三日内办结", "due_at": due, "card": "yellow"},
        "link-duplicate": {"original_id": original_id},
        "transfer-county": {"division_code": "330110", "reason": "位于余杭区境内"},
    }


@pytest.fixture
def sc(world):
    with tenant_context(world.shangcheng):
        yield world


def png(size=(64, 48)) -> io.BytesIO:
    data = io.BytesIO()
    Image.new("RGB", size, (200, 40, 40)).save(data, format="PNG")
    data.seek(0)
    data.name = "scene.png"
    return data


# --- the lifecycle -------------------------------------------------------------------------------


def test_the_whole_lifecycle_over_http(sc):
    jus = handler("D-JUS")
    worker, operator, department = (client(sc, "shangcheng_gridworker"), client(sc, "shangcheng_operator"),
                                    client(sc, jus.user.username))

    response = post(worker, f"{API}/cases/", {"category": "DSP-NEIGHBOUR", "title": "楼上漏水邻里争吵",
                                              "description": "两户因漏水争执", **IN_G01})
    assert response.status_code == 201, response.content
    case = response.json()
    assert case["status"] == "reported" and case["source"] == "grid_worker" and case["level"] == "community"
    assert case["grid"] == "T01-C01-G01" and case["category"] == {"code": "DSP-NEIGHBOUR", "name": case["category"]
                                                                   ["name"]}
    assert case["light"] == "green" and case["version"] == 1
    url = f"{API}/cases/{case['id']}"
    assert response["Location"] == f"{url}/"  # the summary comes back; the detail is there
    reported = worker.get(response["Location"]).json()
    assert reported["allowed_actions"] == [] and [e["action"] for e in reported["timeline"]] == ["report"]

    detail = operator.get(f"{url}/").json()
    assert {"accept", "reject", "escalate", "supervise", "link-duplicate"} <= set(detail["allowed_actions"])
    assert "start" not in detail["allowed_actions"]
    assert operator.get(f"{url}/suggested-department/").json()["department"]["code"] == "D-JUS"

    case = post(operator, f"{url}/accept/", {"version": 1, "comment": "已受理"}).json()
    assert case["status"] == "accepted" and case["version"] == 2
    case = post(operator, f"{url}/dispatch/", {"version": 2}).json()  # the routing rules choose
    assert case["status"] == "dispatched" and case["department"] == "D-JUS" and case["handle_due"]
    assert case["light"] == "green"

    assert department.get(f"{url}/").json()["allowed_actions"] == ["start", "return", "request-extension"]
    case = post(department, f"{url}/start/", headers={"If-Match": '"3"'}).json()
    assert case["status"] == "in_progress"
    case = post(department, f"{url}/handle/", {"result": "已调解，双方签字", "version": 4}).json()
    assert case["status"] == "handled" and case["result"] == "已调解，双方签字" and case["light"] is None

    case = post(operator, f"{url}/rate/", {"rating": 5, "comment": "回访满意", "version": 5}).json()
    assert case["rating"] == 5 and case["status"] == "handled"
    case = post(operator, f"{url}/close/", {"version": 6}).json()
    assert case["status"] == "closed" and case["version"] == 7 and case["allowed_actions"] == ["reopen"]
    assert [e["action"] for e in case["timeline"]] == ["report", "accept", "dispatch", "start", "handle", "rate",
                                                        "close"]
    accept = case["timeline"][1]
    assert accept["actor"] == "shangcheng_operator" and accept["comment"] == "已受理"
    assert (accept["from_status"], accept["to_status"]) == ("reported", "accepted") and accept["action_label"]
    with tenant_context(sc.shangcheng):
        assert Case.objects.get(pk=case["id"]).status == "closed"


# --- who may do what ---------------------------------------------------------------------------------


def test_other_tenants_and_wrong_roles_get_404_everywhere(sc):
    with tenant_context(sc.shangcheng):
        create_staff_member(username="sc_api_auditor", password="x" * 12, role=StaffRole.AUDITOR, acting_user=None)
        psb, jus = handler("D-PSB"), handler("D-JUS")
        case, other = report(), report(title="同一处漏水")
        operator = staff("shangcheng_operator")
        actions.accept_case(staff=operator, case_id=other.pk)
        actions.dispatch_case(staff=operator, case_id=other.pk, department="D-JUS")
        mine = Notification.objects.get(recipient=jus.user, case=other, topic="case.dispatch")
    with tenant_context(sc.yuhang):
        assert not Case.objects.filter(pk__in=[case.pk, other.pk]).exists()  # the same id is nothing there
    body = bodies(other.pk)
    operation_urls = [(f"{API}/cases/{case.pk}/{slug}/", body[slug]) for slug in SLUGS]
    reads = [f"{API}/cases/{case.pk}/", f"{API}/cases/{case.pk}/suggested-department/"]
    new_report = {"category": "DSP-NEIGHBOUR", "title": "x", **IN_G01}
    everything = [*[("get", url, None) for url in [f"{API}/cases/", f"{API}/case-categories/",
                                                   f"{API}/notifications/", *reads]],
                  ("post", f"{API}/cases/", new_report),
                  ("post", f"{API}/notifications/{mine.pk}/read/", None),
                  *[("post", url, data) for url, data in operation_urls]]
    before = snapshot(sc, case.pk), snapshot(sc, other.pk)

    def ask(http, method, url, data):
        return http.get(url) if method == "get" else post(http, url, data)

    # Another county's operator, on its own host and on this one; a province user; nobody at all.
    yuhang_at_home = client(sc, "yuhang_operator", YUHANG)
    for method, url, data in [("get", url, None) for url in reads] + [("post", u, d) for u, d in operation_urls]:
        assert ask(yuhang_at_home, method, url, data).status_code == 404, url
    for username in ("yuhang_operator", "prov_admin"):
        http = client(sc, username)
        for method, url, data in everything:
            assert ask(http, method, url, data).status_code == 404, (username, method, url)
    anonymous = client(sc, None)
    for method, url, data in everything:
        assert ask(anonymous, method, url, data).status_code in (401, 403), (method, url)

    # Roles that may not: the grid worker sees the case but takes no operation; another
    # department does not even see it; the auditor reads but neither reports nor acts.
    for username in ("shangcheng_gridworker", psb.user.username, "sc_api_auditor"):
        http = client(sc, username)
        for url, data in operation_urls:
            assert post(http, url, data).status_code == 404, (username, url)
    department = client(sc, psb.user.username)
    for url in reads:
        assert department.get(url).status_code == 404
    assert post(client(sc, "sc_api_auditor"), f"{API}/cases/", new_report).status_code == 404
    # Somebody else's notification is nobody's.
    for username in ("shangcheng_gridworker", "shangcheng_operator", psb.user.username):
        assert post(client(sc, username), f"{API}/notifications/{mine.pk}/read/").status_code == 404

    # Handling belongs to the department holding the case, not to the command centre.
    operator_http = client(sc, "shangcheng_operator")
    post(operator_http, f"{API}/cases/{case.pk}/accept/")
    post(operator_http, f"{API}/cases/{case.pk}/dispatch/", {"department": "D-JUS"})
    dispatched = snapshot(sc, case.pk)
    for slug in ("start", "return", "request-extension", "handle"):
        assert post(operator_http, f"{API}/cases/{case.pk}/{slug}/", body[slug]).status_code == 404, slug

    assert snapshot(sc, case.pk) == dispatched and dispatched[0] == "dispatched"
    assert before[0][4] + 2 == dispatched[4]  # only the operator's own accept and dispatch were recorded
    assert snapshot(sc, other.pk) == before[1]
    with tenant_context(sc.shangcheng):
        assert Case.objects.filter(title="x").count() == 0
        assert Notification.objects.get(pk=mine.pk).read_at is None


# --- conflicts and bad input -----------------------------------------------------------------------


def test_stale_versions_and_invalid_transitions_are_409(sc):
    case = report()
    operator = client(sc, "shangcheng_operator", language="en")
    url = f"{API}/cases/{case.pk}"

    response = post(operator, f"{url}/close/")
    assert response.status_code == 409
    assert response.json()["status"] == "reported" and response.json()["version"] == 1
    assert "cannot be closed now" in response.json()["detail"]

    assert post(operator, f"{url}/accept/", {"version": 1}).status_code == 200
    for stale in ({"body": {"version": 1}}, {"headers": {"If-Match": "1"}}):
        response = post(operator, f"{url}/dispatch/", stale.get("body"), stale.get("headers"))
        assert response.status_code == 409, stale
        assert response.json() == {"detail": response.json()["detail"], "status": "accepted", "version": 2}
        assert "Someone else changed this case" in response.json()["detail"]
    assert snapshot(sc, case.pk)[:2] == ("accepted", 2)

    response = post(operator, f"{url}/dispatch/", headers={"If-Match": "soon"})
    assert response.status_code == 400 and list(response.json()) == ["version"]

    # A second extension request while one waits is a conflict too.
    jus = client(sc, handler("D-JUS").user.username, language="en")
    post(operator, f"{url}/dispatch/")
    assert post(jus, f"{url}/request-extension/", {"hours": "8", "reason": "协调"}).status_code == 200
    response = post(jus, f"{url}/request-extension/", {"hours": "8", "reason": "再协调"})
    assert response.status_code == 409 and response.json()["status"] == "dispatched"


def test_bad_input_gets_400_with_messages_by_field_in_the_users_language(sc):
    case, other = report(), report(title="另一起")
    before = snapshot(sc, case.pk)
    url = f"{API}/cases/{case.pk}"
    english = client(sc, "shangcheng_operator", language="en")

    response = post(english, f"{url}/reject/", {"reason": "  "})
    assert response.status_code == 400 and response.json() == {"reason": ["Say why this is not a case."]}
    response = post(english, f"{url}/rate/", {"rating": 9})
    assert response.status_code == 400 and list(response.json()) == ["rating"]  # (reported: rated only later)
    response = post(english, f"{url}/supervise/", {"order": "督办", "due_at": "2001-01-01T00:00:00Z"})
    assert response.json() == {"due_at": ["The order's deadline must be in the future."]}
    response = post(english, f"{url}/link-duplicate/", {"original_id": case.pk})
    assert response.json() == {"original_id": ["A case cannot duplicate itself."]}
    response = post(english, f"{url}/transfer/", {"department": "NOWHERE", "reason": "涉及治安"})
    assert response.json() == {"department": ["There is no active department with the code NOWHERE."]}
    response = post(english, f"{API}/cases/", {"category": "DSP-NEIGHBOUR", "title": "x", **IN_G01})
    assert response.json() == {"source": ["Say where the report came from."]}  # the command centre must say
    hotline = {"source": "hotline_12345", "title": "x"}
    response = post(english, f"{API}/cases/", {**hotline, "category": "NOPE", **IN_G01})
    assert response.status_code == 400
    assert response.json() == {"category": ["There is no category with the code NOPE."]}
    response = post(english, f"{API}/cases/", {**hotline, "category": "DSP-NEIGHBOUR", "latitude": 30.2})
    assert response.status_code == 400 and "location" in response.json()
    response = english.get(f"{API}/cases/", {"status": "reported,lost", "grid": "NOWHERE"})
    assert response.json() == {"status": ["Unknown status lost."], "grid": ["No org unit has the code NOWHERE."]}

    # Chinese by default: Django REST framework's own messages already are; ours are
    # whatever the catalogue says (the same text as gettext gives under zh-hans).
    chinese = client(sc, "shangcheng_operator")
    response = post(chinese, f"{API}/cases/", {"category": "DSP-NEIGHBOUR", "source": "hotline_12345", **IN_G01})
    assert response.json() == {"title": ["该字段是必填项。"]}
    response = post(chinese, f"{url}/reject/", {"reason": ""})
    with translation.override("zh-hans"):
        assert response.json() == {"reason": [translation.gettext("Say why this is not a case.")]}

    assert snapshot(sc, case.pk) == before and snapshot(sc, other.pk)[:2] == ("reported", 1)
    assert Case.objects.filter(title="x").count() == 0


# --- lists -----------------------------------------------------------------------------------------


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_lists_are_scoped_to_the_caller(sc):
    jus, psb = handler("D-JUS"), handler("D-PSB")
    operator = staff("shangcheng_operator")
    in_grid = report()
    by_address = actions.report_case(staff=operator, category="DSP-NEIGHBOUR", title="热线来电：噪音扰民",
                                     source="hotline_12345", address="清泰街100号")
    for case, code in ((in_grid, "D-JUS"), (by_address, "D-PSB")):
        actions.accept_case(staff=operator, case_id=case.pk)
        actions.dispatch_case(staff=operator, case_id=case.pk, department=code)

    everyone = ids(client(sc, "shangcheng_operator").get(f"{API}/cases/"))
    assert {in_grid.pk, by_address.pk} <= everyone
    worker = client(sc, "shangcheng_gridworker").get(f"{API}/cases/").json()
    assert in_grid.pk in {row["id"] for row in worker["results"]} and by_address.pk not in {
        row["id"] for row in worker["results"]}
    assert {row["grid"] for row in worker["results"]} == {"T01-C01-G01"}
    for department, case, elsewhere in ((jus, in_grid, by_address), (psb, by_address, in_grid)):
        rows = client(sc, department.user.username).get(f"{API}/cases/").json()["results"]
        assert case.pk in {row["id"] for row in rows} and elsewhere.pk not in {row["id"] for row in rows}
        assert {row["department"] for row in rows} == {department.scope_department.code}


def test_list_filters(sc):
    operator = staff("shangcheng_operator")
    a = report(title="楼道堆物占用消防通道")
    b = actions.report_case(staff=operator, category="DSP-NEIGHBOUR", title="热线来电：噪音扰民", urgency="urgent",
                            source="hotline_12345", address="清泰街100号")
    actions.accept_case(staff=operator, case_id=b.pk)
    actions.dispatch_case(staff=operator, case_id=b.pk, department="D-PSB")
    now = timezone.now()
    Case.objects.filter(pk=a.pk).update(accept_due=now - timedelta(hours=1), accept_warn_at=now - timedelta(hours=2))
    http = client(sc, "shangcheng_operator")
    group = Category.objects.get(code="DSP-NEIGHBOUR").parent.code

    def found(**params) -> set[int]:
        return ids(http.get(f"{API}/cases/", params)) & {a.pk, b.pk}

    assert found() == {a.pk, b.pk}
    assert found(status="reported") == {a.pk} and found(status="reported,dispatched") == {a.pk, b.pk}
    assert found(category="DSP-NEIGHBOUR") == found(category=group) == {a.pk, b.pk}
    assert found(category="FIRE-HAZARD-NOPE") == set()
    assert found(department="D-PSB") == {b.pk} and found(department="D-JUS") == set()
    assert found(grid="T01") == found(grid="T01-C01-G01") == {a.pk} and found(grid="T02") == set()
    assert found(source="hotline_12345") == {b.pk} and found(urgency="urgent") == {b.pk}
    assert found(light="red") == {a.pk} and found(light="green") == {b.pk} and found(light="yellow") == set()
    Case.objects.filter(pk=a.pk).update(accept_due=now + timedelta(hours=1))
    assert found(light="yellow") == {a.pk} and found(light="red") == set()
    index_now()  # full-text search reads the index, which the outbox keeps up to date
    assert found(q=a.number) == {a.pk} and found(q="噪音") == {b.pk}
    assert found(reported_after=(now - timedelta(minutes=5)).isoformat()) == {a.pk, b.pk}
    assert found(reported_before=(now - timedelta(minutes=5)).isoformat()) == set()
    row = next(r for r in http.get(f"{API}/cases/", {"q": a.number}).json()["results"])
    assert set(row) >= {"id", "number", "title", "category", "status", "status_label", "level", "urgency", "source",
                        "grid", "department", "reported_at", "accept_due", "handle_due", "light", "version"}
    page = http.get(f"{API}/cases/", {"limit": 1}).json()
    assert len(page["results"]) == 1 and page["count"] >= 2 and page["next"]


def test_the_reporters_phone_is_masked_and_shown_to_coordinators_only(sc):
    case = report(reporter_phone="13812345678", reporter_name="张三丰")
    operator = staff("shangcheng_operator")
    actions.accept_case(staff=operator, case_id=case.pk)
    actions.dispatch_case(staff=operator, case_id=case.pk, department="D-JUS")
    jus = handler("D-JUS")
    for username, expected in (("shangcheng_operator", "138****5678"), ("shangcheng_gridworker", None),
                               (jus.user.username, None)):
        http = client(sc, username)
        detail = http.get(f"{API}/cases/{case.pk}/")
        listed = http.get(f"{API}/cases/", {"q": case.number})
        for response in (detail, listed):
            assert "13812345678" not in str(response.json()) and "三丰" not in str(response.json())
        assert detail.json()["reporter_phone"] == expected, username
        assert listed.json()["results"][0]["reporter_phone"] == expected, username
        assert detail.json()["reporter_name"] == ("张**" if expected else None)


# --- the detail ------------------------------------------------------------------------------------


def test_detail_carries_extensions_supervision_duplicates_and_what_the_caller_may_do(sc):
    original, repeat = report(), report(title="同一处漏水，又报")
    jus = handler("D-JUS")
    operator, department = client(sc, "shangcheng_operator"), client(sc, jus.user.username)
    url = f"{API}/cases/{original.pk}"

    linked = post(operator, f"{API}/cases/{repeat.pk}/link-duplicate/", {"original_id": original.pk}).json()
    assert linked["status"] == "merged" and linked["duplicate_of"]["id"] == original.pk
    post(operator, f"{url}/accept/")
    post(operator, f"{url}/dispatch/")
    post(department, f"{url}/start/")
    case = post(department, f"{url}/request-extension/", {"hours": "7.5", "reason": "需要现场协调"}).json()
    assert [(e["hours"], e["granted"]) for e in case["extension_requests"]] == [("7.50", None)]
    assert "request-extension" not in case["allowed_actions"] and "handle" in case["allowed_actions"]
    detail = operator.get(f"{url}/").json()
    assert "decide-extension" in detail["allowed_actions"] and "handle" not in detail["allowed_actions"]
    assert [d["id"] for d in detail["duplicates"]] == [repeat.pk]

    due_before = detail["handle_due"]
    case = post(operator, f"{url}/decide-extension/", {"grant": True, "comment": "同意"}).json()
    assert case["extension_requests"][0]["granted"] is True and case["handle_due"] > due_before
    assert "decide-extension" not in case["allowed_actions"]
    due = (timezone.now() + timedelta(days=3)).isoformat()
    case = post(operator, f"{url}/supervise/", {"order": "三日内办结并回复", "due_at": due, "card": "red"}).json()
    assert [(s["order"], s["card"], s["department"]) for s in case["supervisions"]] == [
        ("三日内办结并回复", "red", "D-JUS")]
    case = post(operator, f"{url}/transfer/", {"department": "D-PSB", "reason": "涉及治安"}).json()
    assert case["department"] == "D-PSB" and case["status"] == "dispatched"
    assert [e["action"] for e in case["timeline"]] == ["report", "accept", "dispatch", "start", "request_extension",
                                                        "decide_extension", "supervise", "transfer"]
    # The department that gave the case away still reads its history, and may do nothing more.
    assert department.get(f"{url}/").json()["allowed_actions"] == []


def test_escalation_and_return_and_reopen(sc):
    case = report()
    jus = handler("D-JUS")
    operator = client(sc, "shangcheng_operator")
    url = f"{API}/cases/{case.pk}"
    case_json = post(operator, f"{url}/escalate/", {"reason": "社区无法协调"}).json()
    assert case_json["level"] == "township" and case_json["status"] == "escalated"
    post(operator, f"{url}/escalate/", {"reason": "街道无法协调"})
    detail = operator.get(f"{url}/").json()
    assert detail["level"] == "county" and "escalate" not in detail["allowed_actions"]
    post(operator, f"{url}/dispatch/", {"department": "D-JUS"})
    returned = post(client(sc, jus.user.username), f"{url}/return/", {"reason": "不属于本部门"}).json()
    assert returned["status"] == "returned" and returned["department"] is None
    post(operator, f"{url}/dispatch/", {"department": "D-JUS"})
    http = client(sc, jus.user.username)
    post(http, f"{url}/start/")
    post(http, f"{url}/handle/", {"result": "已处理"})
    post(operator, f"{url}/close/")
    reopened = post(operator, f"{url}/reopen/", {"reason": "群众反映问题仍在"}).json()
    assert reopened["status"] == "reopened" and reopened["result"] == ""
    rejected = report()
    response = post(operator, f"{API}/cases/{rejected.pk}/reject/", {"reason": "重复来电，非事件"})
    assert response.json()["status"] == "rejected"


# --- reports with photos ----------------------------------------------------------------------------


def test_a_report_and_its_photos_are_one_transaction(sc):
    worker = client(sc, "shangcheng_gridworker", language="en")
    fields = {"category": "DSP-NEIGHBOUR", "title": "墙面渗水", "latitude": "30.245", "longitude": "120.175"}
    cases, files = Case.objects.count(), Attachment.objects.count()

    script = io.BytesIO(b"#!/bin/sh\nrm -rf /\n")
    script.name = "photo.jpg"
    response = worker.post(f"{API}/cases/", {**fields, "photos": [png(), script]}, format="multipart")
    assert response.status_code == 400 and list(response.json()) == ["photos"]
    assert "photo.jpg" in response.json()["photos"][0]
    assert (Case.objects.count(), Attachment.objects.count()) == (cases, files)

    response = worker.post(f"{API}/cases/", {**fields, "photos": [png(), png((30, 20))]}, format="multipart")
    assert response.status_code == 201, response.content
    case = worker.get(response["Location"]).json()
    try:
        assert case["grid"] == "T01-C01-G01" and len(case["attachments"]) == 2
        assert {a["kind"] for a in case["attachments"]} == {"image"}
        # The thumbnails come from the worker after the commit (tests/platform/cases/test_thumbnails.py);
        # until then the thumbnail URL serves the photo itself.
        assert all(a["url"] and a["thumbnail_url"] and a["event"] == case["timeline"][0]["id"]
                   for a in case["attachments"])
        first = case["attachments"][0]
        assert worker.get(first["thumbnail_url"]).getvalue() == worker.get(first["url"]).getvalue()
    finally:
        for row in Attachment.objects.filter(case_id=case["id"]):
            default_storage.delete(row.file)
            if row.thumbnail:
                default_storage.delete(row.thumbnail)


# --- categories, suggestions, notifications, schema ----------------------------------------------------


def test_the_category_tree_carries_deadlines(sc):
    groups = client(sc, "shangcheng_gridworker").get(f"{API}/case-categories/").json()
    leaf = Category.objects.get(code="DSP-NEIGHBOUR")
    group = next(g for g in groups if g["code"] == leaf.parent.code)
    row = next(c for c in group["children"] if c["code"] == "DSP-NEIGHBOUR")
    assert row["accept_hours"] == f"{leaf.accept_hours:.2f}" and row["department_code"] == "D-JUS"
    assert sum(len(g["children"]) for g in groups) == Category.objects.filter(parent__isnull=False,
                                                                              is_active=True).count()


def test_the_suggested_department_follows_the_routing_rules(sc):
    case = report()
    response = client(sc, "shangcheng_operator").get(f"{API}/cases/{case.pk}/suggested-department/")
    assert response.json()["department"]["code"] == "D-JUS"


def test_notifications_are_the_callers_own_unread_first(sc):
    first, second = report(), report(title="第二起")
    operator, jus = staff("shangcheng_operator"), handler("D-JUS")
    for case in (first, second):  # each dispatch tells the department's handlers
        actions.accept_case(staff=operator, case_id=case.pk)
        actions.dispatch_case(staff=operator, case_id=case.pk, department="D-JUS")
    http = client(sc, jus.user.username)
    rows = http.get(f"{API}/notifications/").json()["results"]
    mine = [r for r in rows if r["case"] in (first.pk, second.pk)]
    assert [r["case"] for r in mine] == [second.pk, first.pk] and all(r["read_at"] is None for r in mine)
    assert Notification.objects.filter(recipient=jus.user).count() == http.get(
        f"{API}/notifications/").json()["count"]

    newest = mine[0]
    read = post(http, f"{API}/notifications/{newest['id']}/read/").json()
    assert read["read_at"] is not None
    assert post(http, f"{API}/notifications/{newest['id']}/read/").json()["read_at"] == read["read_at"]
    rows = http.get(f"{API}/notifications/").json()["results"]
    order = [r["id"] for r in rows]
    assert order.index(mine[1]["id"]) < order.index(newest["id"])  # unread first
    assert all(r["read_at"] is None for r in rows[:order.index(newest["id"])])


def test_the_schema_documents_every_operation(world):
    schema = APIClient(HTTP_HOST=SHANGCHENG).get("/api/schema/", {"format": "json"}).json()
    paths = schema["paths"]
    for slug in SLUGS:
        operation = paths[f"/api/v1/cases/{{id}}/{slug}/"]["post"]
        assert set(operation["responses"]) == {"200", "400", "404", "409"}, slug
        assert operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].startswith(
            "#/components/schemas/Case")
    assert paths["/api/v1/cases/{id}/dispatch/"]["post"]["requestBody"]["content"]["application/json"][
        "schema"]["$ref"] == "#/components/schemas/CaseDispatchInput"
    assert {"get", "post"} <= set(paths["/api/v1/cases/"])
    assert "multipart/form-data" in paths["/api/v1/cases/"]["post"]["requestBody"]["content"]
    for path in ("/api/v1/cases/{id}/", "/api/v1/cases/{id}/suggested-department/", "/api/v1/case-categories/",
                 "/api/v1/notifications/", "/api/v1/notifications/{id}/read/"):
        assert path in paths
    assert "allowed_actions" in schema["components"]["schemas"]["CaseDetail"]["properties"]


def test_a_case_goes_to_another_county_over_the_api(world):
    operator = client(world, "shangcheng_operator")
    with tenant_context(world.shangcheng):
        case = actions.report_case(staff=staff("shangcheng_operator"),
                                   category="DSP-NEIGHBOUR", title="跨区问题", source="hotline_12345",
                                   address="余杭区交界处")
    response = operator.post(f"/api/v1/cases/{case.pk}/transfer-county/",
                             {"division_code": "330110", "reason": "位于余杭区境内"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "transferred"
    with tenant_context(world.yuhang):
        assert Case.objects.filter(transferred_from__endswith=case.number).count() == 1
