"""Dashboards: the period's figures over the member's cases, each drilling down to its
cases, exported as XLSX; early warning at mean + 3σ, raised once, told to the command centre."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context
from openpyxl import load_workbook

from civicgrid.platform.accounts.staff.models import StaffRole
from civicgrid.platform.cases import tasks
from civicgrid.platform.cases.early_warning import cases_behind, find_spikes, raise_early_warnings
from civicgrid.platform.cases.models import Case
from civicgrid.platform.cases.statistics import dashboard, last_days
from civicgrid.platform.notifications.models import Notification
from tests.platform.cases.test_case_pages import IN_G01, IN_T02, member, report, staff
from tests.platform.console.test_queue import SHANGCHENG, YUHANG, signed_in

ROUTES_COVERED = {
    "console-dashboard": "test_dashboards_are_not_found_for_grid_workers_or_another_tenant",
    "console-warning": "test_a_spike_is_flagged_once_and_the_command_centre_is_told",
}


@pytest.fixture
def sc(world):
    with tenant_context(world.shangcheng):
        member("d_jus", StaffRole.DEPARTMENT_HANDLER, department="D-JUS")
        member("d_t02", StaffRole.TOWNSHIP_OPERATOR, unit="T02")
        yield world


def days_ago(case: Case, days: int) -> None:
    """Move a report into the past (the history a real county would have)."""
    Case.objects.filter(pk=case.pk).update(reported_at=timezone.now() - timedelta(days=days))


def test_figures_count_the_period_and_every_row_lists_its_cases(sc):
    before = dashboard(staff("shangcheng_operator"), last_days(30))["total"]
    first = report(title="看板事件一", **IN_G01)
    report(title="看板事件二", **IN_G01)
    old = report(title="四十天前的事件", **IN_G01)
    days_ago(old, 40)
    figures = dashboard(staff("shangcheng_operator"), last_days(30))
    assert figures["total"] == before + 2
    assert sum(row["value"] for row in figures["volume"]) == figures["total"]
    assert sum(row["value"] for row in figures["by_source"]) == figures["total"]

    operator = signed_in(sc, "shangcheng_operator")
    page = operator.get("/dashboard/?days=30")
    assert page.status_code == 200
    html = page.content.decode()
    assert "/static/vendor/echarts/echarts.min.js" in html and 'id="dashboard-data"' in html
    drill = next(row for row in page.context["figures"]["top_problems"] if row["filter"].get("category") == "DSP-NEIGHBOUR")
    listed = operator.get(drill["url"]).content.decode()
    assert first.number in listed and old.number not in listed, "the period and the category both hold"
    by_grid = next(row for row in page.context["figures"]["by_grid"] if row["filter"]["grid"] == "T01-C01-G01")
    assert first.number in operator.get(by_grid["url"]).content.decode()

    # A township operator sees only their township's cases in the same figures.
    mine = dashboard(staff("d_t02"), last_days(30))
    other = report(by="shangcheng_operator", title="二街道看板", **IN_T02)
    assert dashboard(staff("d_t02"), last_days(30))["total"] == mine["total"] + 1
    assert other.number not in signed_in(sc, "d_t02").get(by_grid["url"]).content.decode()


def test_every_table_exports_as_xlsx(sc):
    report(title="=HYPERLINK(\"http://evil\")", **IN_G01)
    answer = signed_in(sc, "shangcheng_operator").get("/dashboard/?days=7&format=xlsx")
    assert answer.status_code == 200
    workbook = load_workbook(io.BytesIO(b"".join(answer.streaming_content)))
    assert len(workbook.sheetnames) == 7
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows(values_only=True):
            assert not any(isinstance(value, str) and value.startswith("=") for value in row)


def test_dashboards_are_not_found_for_grid_workers_or_another_tenant(sc):
    assert signed_in(sc, "shangcheng_gridworker").get("/dashboard/").status_code == 404
    assert signed_in(sc, "yuhang_operator", YUHANG).get("/dashboard/", HTTP_HOST=SHANGCHENG).status_code == 404
    assert signed_in(sc, "d_jus").get("/dashboard/").status_code == 200


def test_a_spike_is_flagged_once_and_the_command_centre_is_told(sc):
    # 28 days of one or two neighbour disputes a day in the first township …
    for day in range(1, 29):
        for _ in range(1 + day % 2):
            days_ago(report(title=f"历史纠纷{day}", **IN_G01), day)
    quiet = {(s.category_id, s.area_code) for s in find_spikes(timezone.localdate())}
    # … then eight today.
    today = [report(title=f"今天的纠纷{n}", **IN_G01) for n in range(8)]
    spikes = [s for s in find_spikes(timezone.localdate()) if (s.category_id, s.area_code) not in quiet]
    assert [(s.area_code, s.count >= 8) for s in spikes] == [("T01", True)]
    assert spikes[0].count > spikes[0].mean + 3 * spikes[0].sigma

    raised = [w for w in raise_early_warnings() if w.area_code == "T01"]
    assert len(raised) == 1
    assert raise_early_warnings() == [], "raised once a day"
    warning = raised[0]
    assert {c.pk for c in today} <= set(cases_behind(warning).values_list("pk", flat=True))
    told = set(Notification.objects.filter(topic="case.early_warning", url=f"/dashboard/warnings/{warning.pk}/")
               .values_list("recipient__username", flat=True))
    assert {"shangcheng_operator", "shangcheng_admin"} <= told and "d_jus" not in told

    page = signed_in(sc, "shangcheng_operator").get(f"/dashboard/warnings/{warning.pk}/").content.decode()
    assert all(case.number in page for case in today)
    assert signed_in(sc, "shangcheng_operator").get("/dashboard/").content.decode().count("data-warnings") == 1
    assert signed_in(sc, "d_jus").get(f"/dashboard/warnings/{warning.pk}/").status_code == 404
    assert signed_in(sc, "yuhang_operator", YUHANG).get(f"/dashboard/warnings/{warning.pk}/",
                                                        HTTP_HOST=SHANGCHENG).status_code == 404


def test_the_early_warning_task_refuses_to_run_without_a_tenant(world):
    with pytest.raises(RuntimeError):
        tasks.early_warning_tenant()
