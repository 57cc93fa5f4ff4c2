"""The two things issue 10 promises a county office, in real Chromium against live
daphne and a real Celery worker (nobody relays or indexes by hand):

- an operator dispatches a case in one browser; the department handler's console,
  open in another browser context, pops it up without a reload, and the unread
  counter follows;
- a few Chinese words of a case's description find it, highlighted.

Screenshots land in SHOTS for a person to look at."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from django_tenants.utils import tenant_context

from civicgrid.platform.accounts.actions import create_staff_member
from civicgrid.platform.accounts.staff.models import StaffRole
from civicgrid.platform.cases import actions
from civicgrid.platform.cases.models import Case, Source
from civicgrid.platform.notifications.models import OutboxEvent
from civicgrid.platform.org.models import Department
from civicgrid.search.models import CaseDocument
from tests.browser.test_case_pages import discard_cases, discard_user, sign_in
from tests.platform.cases.test_workflow import IN_G01, staff
from tests.world import PASSWORD

pytestmark = pytest.mark.slow
expect = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (pip install playwright)").expect

SHOTS = Path("/work/tmp/shots")
HANDLER = "browser_fire_handler"
TITLE = "电动车楼道飞线充电"
DESCRIPTION = "三单元一楼楼道有住户私拉电线给电瓶车充电，夜间无人看管，存在起火隐患"


@pytest.fixture
def scene(committed):
    world = committed
    discard_cases(world, TITLE)
    discard_user(world, HANDLER)
    with tenant_context(world.shangcheng):
        create_staff_member(username=HANDLER, password=PASSWORD, role=StaffRole.DEPARTMENT_HANDLER,
                            scope_department=Department.objects.get(code="D-FIRE"), acting_user=None)
        operator = staff("shangcheng_operator")
        case = actions.report_case(staff=operator, category="DSP-NEIGHBOUR", title=TITLE, description=DESCRIPTION,
                                   source=Source.HOTLINE_12345, **IN_G01)
        actions.accept_case(staff=operator, case_id=case.pk)
    yield world, case
    with tenant_context(world.shangcheng):
        OutboxEvent.objects.filter(payload__case_id=case.pk).delete()
        OutboxEvent.objects.filter(topic="inbox.read", payload__user_id__isnull=False).delete()
    discard_cases(world, TITLE)
    discard_user(world, HANDLER)


def indexed(world, case, timeout=30) -> None:
    deadline = time.monotonic() + timeout
    with tenant_context(world.shangcheng):
        while time.monotonic() < deadline:
            if CaseDocument.objects.filter(case_id=case.pk, status=Case.objects.get(pk=case.pk).status).exists():
                return
            time.sleep(0.2)
    raise AssertionError("the worker did not index the case")


def test_a_dispatch_pops_up_on_the_handlers_console_and_words_find_the_case(chromium, scene, asgi_server,
                                                                           celery_worker):
    world, case = scene
    base = f"http://shangcheng.localhost:{asgi_server}"
    SHOTS.mkdir(parents=True, exist_ok=True)
    indexed(world, case)  # by the worker, after the report's commit (no ORM inside the browser block)
    with chromium() as handler_page:
        sign_in(handler_page, base, HANDLER)
        handler_page.goto(f"{base}/")
        counter = handler_page.locator("[data-live-unread]")
        expect(counter).to_be_hidden()  # nothing unread yet
        handler_page.wait_for_function("() => document.body.dataset.liveSocket !== undefined")
        time.sleep(1)  # the socket's handshake

        # The operator, in a browser context of their own.
        operator_context = handler_page.context.browser.new_context(locale="zh-CN",
                                                                    viewport={"width": 1280, "height": 900})
        operator_page = operator_context.new_page()
        operator_problems = []
        operator_page.on("pageerror", lambda error: operator_problems.append(f"script error: {error}"))
        operator_page.on("response", lambda response: response.status >= 400 and operator_problems.append(
            f"HTTP {response.status}: {response.url}"))
        sign_in(operator_page, base, "shangcheng_operator")
        # A few words of the description, not of the title: the case, highlighted.
        operator_page.goto(f"{base}/cases/")
        operator_page.fill("form.case-search input[name=q]", "私拉电线 起火")
        operator_page.press("form.case-search input[name=q]", "Enter")
        row = operator_page.locator(f"tr[data-case='{case.number}']")
        expect(row).to_be_visible()
        expect(row.locator(".search-snippet mark").first).to_have_text(re.compile("私拉|电线|起火"))
        operator_page.screenshot(path=str(SHOTS / "search_desk.png"), full_page=True)

        operator_page.goto(f"{base}/cases/{case.pk}/")
        dispatch = operator_page.locator("#action-dispatch")
        if dispatch.get_attribute("open") is None:
            dispatch.locator("summary").click()
        dispatch.locator("select[name=department]").select_option("D-FIRE")
        dispatch.locator("button[type=submit]").click()
        expect(operator_page.locator("[data-status]")).to_have_attribute("data-status", "dispatched")

        # No reload on the handler's side: the toast and the counter come by themselves.
        toast = handler_page.locator(".toast").filter(has_text=case.number)
        expect(toast).to_be_visible(timeout=20_000)
        expect(toast).to_contain_text(case.number)
        expect(counter).to_have_text("1")
        handler_page.screenshot(path=str(SHOTS / "dispatch_popup.png"), full_page=False)

        # Opening it from the toast reads it; the counter on the page it opens is back to none.
        toast.locator(".toast-open").click()
        handler_page.wait_for_url(re.compile(rf"/cases/{case.pk}/$"))
        expect(handler_page.locator("[data-live-unread]")).to_be_hidden()
        assert handler_page.problems == [] and operator_problems == []
        operator_context.close()
