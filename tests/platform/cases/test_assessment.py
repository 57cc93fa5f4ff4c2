"""Assessment: a small exact scenario driven through the actions, every measure and
score checked to the number with the cases behind it; weights change scores; each
role sees only its own lines; the wrong tenant and the wrong role get 404."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context
from openpyxl import load_workbook

from civicgrid.platform.accounts.actions import create_staff_member
from civicgrid.platform.accounts.staff.models import StaffRole
from civicgrid.platform.audit.models import AuditEntry
from civicgrid.platform.cases import actions, assessment, sweep
from civicgrid.platform.cases.assessment import Period
from civicgrid.platform.cases.assessment_actions import set_weights
from civicgrid.platform.cases.models import AssessmentWeight, Case, Source, Status
from civicgrid.platform.org.models import OrgUnit
from tests.world import PASSWORD

from .test_workflow import handler, report, staff

ROUTES_COVERED = {
    "assessment-page": "test_the_page_shows_each_role_its_tables_and_the_cases_behind_a_figure",
    "assessment-weights": "test_county_admins_change_weights_on_the_page_and_no_one_else",
    "api-assessment-departments": "test_the_api_scopes_rows_by_role_and_tenant",
    "api-assessment-townships": "test_the_api_scopes_rows_by_role_and_tenant",
    "api-assessment-grid-workers": "test_the_api_scopes_rows_by_role_and_tenant",
    "api-assessment-weights": "test_weights_over_the_api_are_read_by_all_and_changed_by_county_admins",
}

SHANGCHENG, YUHANG = "shangcheng.localhost", "yuhang.localhost"
IN_T02 = {"latitude": 30.245, "longitude": 120.195}  # T02-C01-G01


def later(**kwargs):
    return timezone.now() + timedelta(**kwargs)


def signed_in(world, username, host=SHANGCHENG):
    client = Client(HTTP_HOST=host)
    client.force_login(world.user(username))
    return client


def _handle(case, by, *, late=False, result="已处理"):
    case = actions.start_case(staff=by, case_id=case.pk)
    if late:
        Case.objects.filter(pk=case.pk).update(handle_due=later(hours=-1))
    return actions.handle_case(staff=by, case_id=case.pk, result=result)


def build_scenario():
    """Cases A-I of shangcheng; the figures each test expects are worked out beside each measure."""
    op, jus, psb = staff("shangcheng_operator"), handler("D-JUS"), handler("D-PSB")
    cases = {}

    def new(name, **extra):
        cases[name] = report(**extra)
        return cases[name]

    def to(case, department):
        actions.accept_case(staff=op, case_id=case.pk)
        return actions.dispatch_case(staff=op, case_id=case.pk, department=department)

    # A: D-JUS on time, rated 5, closed.
    a = to(new("A"), "D-JUS")
    _handle(a, jus)
    actions.rate_case(staff=op, case_id=a.pk, rating=5)
    actions.close_case(staff=op, case_id=a.pk)
    # B: a red card while D-JUS holds it, handled late, rated 3, closed.
    b = to(new("B"), "D-JUS")
    actions.supervise_case(staff=op, case_id=b.pk, order="限期办结", due_at=later(days=2), card="red")
    _handle(b, jus, late=True)
    actions.rate_case(staff=op, case_id=b.pk, rating=3)
    actions.close_case(staff=op, case_id=b.pk)
    # C: D-JUS on time, rated 4, closed, reopened; then D-PSB on time, rated 2, closed.
    c = to(new("C"), "D-JUS")
    _handle(c, jus)
    actions.rate_case(staff=op, case_id=c.pk, rating=4)
    actions.close_case(staff=op, case_id=c.pk)
    actions.reopen_case(staff=op, case_id=c.pk, reason="群众反映未解决")
    actions.dispatch_case(staff=op, case_id=c.pk, department="D-PSB")
    _handle(c, psb)
    actions.rate_case(staff=op, case_id=c.pk, rating=2)
    actions.close_case(staff=op, case_id=c.pk)
    # D: past its deadline, given 8 more working hours, handled within them: on time.
    d = to(new("D"), "D-JUS")
    actions.start_case(staff=jus, case_id=d.pk)
    Case.objects.filter(pk=d.pk).update(handle_due=later(hours=-1))
    actions.request_extension(staff=jus, case_id=d.pk, hours=8, reason="需要现场复核")
    actions.decide_extension(staff=op, case_id=d.pk, grant=True)
    actions.handle_case(staff=jus, case_id=d.pk, result="复核完毕")
    # E: transferred to D-PSB, a yellow card there, left open past its deadline.
    e = to(new("E"), "D-JUS")
    actions.transfer_case(staff=op, case_id=e.pk, department="D-PSB", reason="属治安案件")
    actions.supervise_case(staff=op, case_id=e.pk, order="请加快办理", due_at=later(days=1), card="yellow")
    Case.objects.filter(pk=e.pk).update(handle_due=later(hours=-1))
    # F rejected, G a duplicate of E, I never accepted before its deadline.
    actions.reject_case(staff=op, case_id=new("F").pk, reason="不属于事件")
    actions.link_duplicate(staff=op, case_id=new("G").pk, original_id=e.pk)
    Case.objects.filter(pk=new("I").pk).update(accept_due=later(hours=-1))
    # H: an operator's report in T02, accepted after its deadline.
    h = new("H", by="shangcheng_operator", source=Source.HOTLINE_12345, **IN_T02)
    Case.objects.filter(pk=h.pk).update(accept_due=later(hours=-1))
    actions.accept_case(staff=op, case_id=h.pk)
    # The sweep records E's handling overdue (D-PSB holds it) and escalates I.
    sweep.sweep()
    return {name: Case.objects.get(pk=case.pk) for name, case in cases.items()}


@pytest.fixture
def scenario(world):
    with tenant_context(world.shangcheng):
        yield build_scenario()


def period_now() -> Period:
    """30 days around today: a report target of 20 per 30 days is 20."""
    today = timezone.now().astimezone(assessment.ZONE).date()
    return Period(today - timedelta(days=15), today + timedelta(days=15))


def rows(kind, username="shangcheng_operator", period=None, **kwargs) -> dict:
    return {row.key: row for row in assessment.assess(staff(username), kind, period or period_now(), **kwargs)}


def refs(measure, cases) -> dict:
    """{case letter: ok or rating} for the cases behind a measure (a case may stand twice: two closures)."""
    letter = {case.pk: name for name, case in cases.items()}
    found = {}
    for ref in measure.cases:
        assert ref["number"] == cases[letter[ref["id"]]].number
        mark = ref["rating"] if ref["rating"] is not None else ref["ok"]
        found.setdefault(letter[ref["id"]], []).append(mark)
    return {name: marks[0] if len(marks) == 1 else sorted(marks) for name, marks in found.items()}


def figures(row) -> dict:
    return {metric: m.as_dict()["value"] for metric, m in row.measures.items()}


def test_the_scenario_is_what_the_figures_say(scenario):
    cases = scenario
    assert cases["C"].status == Status.CLOSED and cases["C"].department.code == "D-PSB"
    assert cases["D"].handled_at <= cases["D"].handle_due  # within the extension
    assert cases["B"].handled_at > cases["B"].handle_due
    assert cases["E"].overdue_marks == ["handle"] and cases["I"].status == Status.ESCALATED
    assert cases["G"].status == Status.MERGED and cases["H"].accepted_at > cases["H"].accept_due


def test_departments_are_scored_on_the_cases_they_held(scenario):
    cases = scenario
    departments = rows(assessment.DEPARTMENTS)
    jus, psb = departments["D-JUS"], departments["D-PSB"]

    # D-JUS: handled A (on time), B (late), D (on time by its extension); C went on to D-PSB.
    m = jus.measures
    assert refs(m["on_time_handling"], cases) == {"A": True, "B": False, "D": True}
    assert refs(m["satisfaction"], cases) == {"A": 5, "B": 3}
    # Closures A, B and C's first; C's was reopened.
    assert refs(m["reopen_rate"], cases) == {"A": True, "B": True, "C": False}
    assert refs(m["red_cards"], cases) == {"B": None} and m["yellow_cards"].cases == []
    assert m["overdue"].cases == []
    assert figures(jus) == {"on_time_handling": 66.67, "satisfaction": 4.0, "reopen_rate": 33.33,
                            "yellow_cards": 0, "red_cards": 1, "overdue": 0}
    assert m["reopen_rate"].as_dict()["numerator"] == 1 and m["reopen_rate"].as_dict()["denominator"] == 3
    # (40 × 200/3 + 25 × 80 + 15 × 200/3) / 80 = 70.833…; a red card is 5 points.
    assert jus.as_dict()["base"] == 70.83 and jus.as_dict()["penalty"] == 5.0 and jus.as_dict()["score"] == 65.83

    # D-PSB: C's second handling on time, E open past its deadline; E's yellow card and overdue fact.
    m = psb.measures
    assert refs(m["on_time_handling"], cases) == {"C": True, "E": False}
    assert refs(m["satisfaction"], cases) == {"C": 2}
    assert refs(m["reopen_rate"], cases) == {"C": True}
    assert refs(m["yellow_cards"], cases) == {"E": None} and refs(m["overdue"], cases) == {"E": None}
    assert figures(psb) == {"on_time_handling": 50.0, "satisfaction": 2.0, "reopen_rate": 0.0,
                            "yellow_cards": 1, "red_cards": 0, "overdue": 1}
    # (40 × 50 + 25 × 40 + 15 × 100) / 80 = 56.25; yellow 2 + overdue 1.
    assert psb.as_dict()["base"] == 56.25 and psb.as_dict()["penalty"] == 3.0 and psb.as_dict()["score"] == 53.25

    # A department with nothing to judge has no score; its measures are empty, not zero.
    samr = departments["D-SAMR"].as_dict()
    assert samr["score"] is None and samr["measures"]["on_time_handling"]["value"] is None


def test_townships_are_scored_on_the_cases_in_their_grids(scenario):
    cases = scenario
    townships = rows(assessment.TOWNSHIPS)
    t01, t02 = townships["T01"], townships["T02"]
    m = t01.measures
    # F (rejected) and G (merged) are not judged; I is late without being accepted.
    assert refs(m["on_time_acceptance"], cases) == {"A": True, "B": True, "C": True, "D": True, "E": True,
                                                    "I": False}
    assert refs(m["on_time_handling"], cases) == {"A": True, "B": False, "C": True, "D": True, "E": False}
    assert refs(m["satisfaction"], cases) == {"A": 5, "B": 3, "C": 2}
    assert refs(m["reopen_rate"], cases) == {"A": True, "B": True, "C": [False, True]}
    assert refs(m["yellow_cards"], cases) == {"E": None} and refs(m["red_cards"], cases) == {"B": None}
    assert figures(t01) == {"on_time_acceptance": 83.33, "on_time_handling": 60.0, "satisfaction": 3.33,
                            "reopen_rate": 25.0, "yellow_cards": 1, "red_cards": 1}
    # (20 × 250/3 + 40 × 60 + 25 × 200/3 + 15 × 75) / 100 = 68.583…; cards 2 + 5.
    assert t01.as_dict()["base"] == 68.58 and t01.as_dict()["score"] == 61.58

    assert refs(t02.measures["on_time_acceptance"], cases) == {"H": False}
    assert t02.as_dict()["score"] == 0.0 and t02.measures["on_time_handling"].count == 0


def test_grid_workers_are_scored_on_their_reports(scenario):
    cases = scenario
    worker = rows(assessment.GRID_WORKERS)["shangcheng_gridworker"]
    m = worker.measures
    assert set(refs(m["reports"], cases)) == set("ABCDEFGI")
    assert refs(m["accepted_share"], cases) == {"A": True, "B": True, "C": True, "D": True, "E": True,
                                                "F": False, "G": False}
    assert refs(m["on_time_acceptance"], cases) == {"A": True, "B": True, "C": True, "D": True, "E": True,
                                                    "I": False}
    assert figures(worker) == {"reports": 8, "accepted_share": 71.43, "on_time_acceptance": 83.33}
    assert worker.as_dict()["grid"] == "T01-C01-G01"
    # Reports: 8 of 20 for full marks = 40. (30 × 40 + 40 × 500/7 + 20 × 250/3) / 90 = 63.597…
    assert m["reports"].as_dict()["figure"] == 40.0
    assert worker.as_dict()["score"] == 63.6
    # A period without reports: reporting is the job, so no reports is 0; the rest has nothing to judge.
    empty = rows(assessment.GRID_WORKERS, period=Period.parse("2020-01-01", "2020-02-01"))["shangcheng_gridworker"]
    assert empty.as_dict()["score"] == 0.0 and empty.measures["accepted_share"].figure is None


def test_weights_change_the_score_and_are_audited(scenario):
    admin = staff("shangcheng_admin")
    after = set_weights(staff=admin, weights={"satisfaction": "0", "red_cards": 10})
    assert after["satisfaction"] == 0 and after["red_cards"] == 10 and after["on_time_handling"] == 40
    jus = rows(assessment.DEPARTMENTS)["D-JUS"].as_dict()
    # (40 × 200/3 + 15 × 200/3) / 55 = 66.67, minus a red card now worth 10.
    assert jus["base"] == 66.67 and jus["score"] == 56.67
    entry = AuditEntry.objects.filter(action="assessment.weights").latest("pk")
    assert entry.data["changes"] == {"satisfaction": ["25", "0.00"], "red_cards": ["5", "10.00"]}
    # None puts the default back.
    set_weights(staff=admin, weights={"satisfaction": None})
    assert not AssessmentWeight.objects.filter(metric="satisfaction").exists()
    assert rows(assessment.DEPARTMENTS)["D-JUS"].as_dict()["score"] == 60.83  # 70.83 - 10

    with pytest.raises(ValidationError) as bad:
        set_weights(staff=admin, weights={"speed": 1, "overdue": -1, "reports": "many"})
    assert set(bad.value.message_dict) == {"speed", "overdue", "reports"}
    with pytest.raises(ValidationError):  # the grid workers' table would have nothing to weigh
        set_weights(staff=admin, weights={"reports": 0, "accepted_share": 0, "on_time_acceptance": 0})
    for username in ("shangcheng_operator", "shangcheng_gridworker"):
        with pytest.raises(Http404):
            set_weights(staff=staff(username), weights={"red_cards": 1})
    assert AssessmentWeight.objects.get(metric="red_cards").weight == 10


@pytest.fixture
def more_staff(world):
    with tenant_context(world.shangcheng):
        t01 = OrgUnit.objects.get(code="T01")
        for username, role, scope in [
            ("sc_assess_township", StaffRole.TOWNSHIP_OPERATOR, {"scope_org_unit": t01}),
            ("sc_assess_community", StaffRole.COMMUNITY_OPERATOR,
             {"scope_org_unit": OrgUnit.objects.get(code="T01-C01")}),
            ("sc_assess_auditor", StaffRole.AUDITOR, {}),
        ]:
            create_staff_member(username=username, password=PASSWORD, role=role, acting_user=None, **scope)
        handler("D-JUS")


def api_keys(client, kind, **params):
    params.setdefault("start", str(period_now().start))
    params.setdefault("end", str(period_now().end))
    response = client.get(f"/api/v1/assessment/{kind}/", params)
    if response.status_code != 200:
        return response.status_code
    return {row["key"] for row in response.json()["results"]}


def test_the_api_scopes_rows_by_role_and_tenant(world, scenario, more_staff):
    admin = signed_in(world, "shangcheng_admin")
    response = admin.get("/api/v1/assessment/departments/", {"start": str(period_now().start),
                                                              "end": str(period_now().end)})
    assert response.status_code == 200
    body = response.json()
    assert body["period"] == {"start": str(period_now().start), "end": str(period_now().end)}
    jus = next(row for row in body["results"] if row["key"] == "D-JUS")
    assert jus["score"] == 65.83 and jus["measures"]["on_time_handling"]["value"] == 66.67
    handled = jus["measures"]["on_time_handling"]["cases"]
    assert {ref["number"]: ref["ok"] for ref in handled} == {
        scenario["A"].number: True, scenario["B"].number: False, scenario["D"].number: True}
    assert body["weights"]["red_cards"] == 5.0
    without = admin.get("/api/v1/assessment/departments/", {"start": str(period_now().start),
                                                            "end": str(period_now().end), "cases": "false"})
    assert all(m["cases"] == [] for row in without.json()["results"] for m in row["measures"].values())
    # The default period is this month; bad dates are 400 with the field named.
    assert admin.get("/api/v1/assessment/townships/").json()["period"]["start"].endswith("-01")
    bad = admin.get("/api/v1/assessment/townships/", {"start": "2025-13-01"}, HTTP_ACCEPT_LANGUAGE="en")
    assert bad.status_code == 400 and "start" in bad.json()
    assert admin.get("/api/v1/assessment/townships/", {"start": "2025-03-01", "end": "2025-02-01"}).status_code == 400

    every_department = api_keys(admin, "departments")
    assert {"D-JUS", "D-PSB", "D-T01-LAW"} <= every_department
    assert api_keys(admin, "townships") == {"T01", "T02"}
    assert api_keys(admin, "grid-workers") == {"shangcheng_gridworker"}
    for username in ("shangcheng_operator", "sc_assess_auditor"):
        client = signed_in(world, username)
        assert api_keys(client, "departments") == every_department
        assert api_keys(client, "townships") == {"T01", "T02"}
    township = signed_in(world, "sc_assess_township")
    assert api_keys(township, "departments") == {"D-T01-LAW"}
    assert api_keys(township, "townships") == {"T01"}
    assert api_keys(township, "grid-workers") == {"shangcheng_gridworker"}
    department = signed_in(world, "handler_d-jus")
    assert api_keys(department, "departments") == {"D-JUS"}
    assert api_keys(department, "townships") == 404 and api_keys(department, "grid-workers") == 404
    worker = signed_in(world, "shangcheng_gridworker")
    assert api_keys(worker, "grid-workers") == {"shangcheng_gridworker"}
    assert api_keys(worker, "departments") == 404 and api_keys(worker, "townships") == 404
    community = signed_in(world, "sc_assess_community")
    for kind in ("departments", "townships", "grid-workers"):
        assert api_keys(community, kind) == 404
        # Another county's admin and a province user find nothing here; nobody signed in must sign in.
        assert api_keys(signed_in(world, "yuhang_admin"), kind) == 404
        assert api_keys(signed_in(world, "prov_admin"), kind) == 404
        assert api_keys(Client(HTTP_HOST=SHANGCHENG), kind) in (401, 403)
    # On its own host Yuhang sees its own units, with nothing to judge.
    yuhang = signed_in(world, "yuhang_admin", YUHANG).get("/api/v1/assessment/departments/").json()
    assert yuhang["results"] and all(row["score"] is None for row in yuhang["results"])


def test_weights_over_the_api_are_read_by_all_and_changed_by_county_admins(world, scenario, more_staff):
    url = "/api/v1/assessment/weights/"
    worker = signed_in(world, "shangcheng_gridworker")
    assert worker.get(url).json()["weights"]["on_time_handling"] == 40.0
    assert worker.put(url, {"weights": {"red_cards": 1}}, content_type="application/json").status_code == 404
    operator = signed_in(world, "shangcheng_operator")
    assert operator.put(url, {"weights": {"red_cards": "x"}}, content_type="application/json").status_code == 404
    assert signed_in(world, "sc_assess_community").get(url).status_code == 404
    assert signed_in(world, "yuhang_admin").put(url, {"weights": {"red_cards": 1}},
                                                content_type="application/json").status_code == 404
    with tenant_context(world.shangcheng):
        assert not AssessmentWeight.objects.exists()

    admin = signed_in(world, "shangcheng_admin")
    bad = admin.put(url, {"weights": {"red_cards": "x"}}, content_type="application/json",
                    HTTP_ACCEPT_LANGUAGE="en")
    assert bad.status_code == 400 and bad.json() == {"red_cards": ["A weight is a number."]}
    saved = admin.put(url, {"weights": {"red_cards": 10, "satisfaction": 0}}, content_type="application/json")
    assert saved.status_code == 200
    assert saved.json()["weights"]["red_cards"] == 10.0 and saved.json()["defaults"]["red_cards"] == 5.0
    jus = admin.get("/api/v1/assessment/departments/", {"start": str(period_now().start),
                                                        "end": str(period_now().end)}).json()
    assert next(r for r in jus["results"] if r["key"] == "D-JUS")["score"] == 56.67
    # Yuhang's weights are its own.
    yuhang = signed_in(world, "yuhang_admin", YUHANG).get(url).json()
    assert yuhang["weights"]["red_cards"] == 5.0


def page_tables(response) -> dict:
    html = response.content.decode()
    found = {}
    for kind, body in re.findall(r'data-kind="([a-z_]+)">(.*?)</table>', html, re.S):
        found[kind] = dict(re.findall(r'<tr data-key="([^"]+)"[^>]*>.*?<td class="figure score">([^<]*)</td>',
                                      body, re.S))
    return found


def test_the_page_shows_each_role_its_tables_and_the_cases_behind_a_figure(world, scenario, more_staff):
    query = {"start": str(period_now().start), "end": str(period_now().end)}
    admin = signed_in(world, "shangcheng_admin")
    page = admin.get("/assessment/", query)
    assert page.status_code == 200
    tables = page_tables(page)
    assert set(tables) == {"departments", "townships", "grid_workers"}
    assert tables["departments"]["D-JUS"] == "65.83" and tables["departments"]["D-SAMR"] == "—"
    assert tables["townships"] == {"T01": "61.58", "T02": "0.00"}
    assert tables["grid_workers"] == {"shangcheng_gridworker": "63.60"}
    html = page.content.decode()
    assert "kind=departments&amp;key=D-JUS&amp;metric=on_time_handling" in html
    assert 'href="/assessment/weights/"' in html

    # Following a figure lists its cases, each linked to the case.
    detail = admin.get("/assessment/", {**query, "kind": "departments", "key": "D-JUS",
                                        "metric": "on_time_handling"}, HTTP_ACCEPT_LANGUAGE="en")
    text = detail.content.decode()
    for name in "ABD":
        case = scenario[name]
        assert f'<a href="/cases/{case.pk}/">{case.number}</a>' in text
    assert scenario["C"].number not in text.split('id="cases"')[1].split("</section>")[0]
    assert "2/3" in text and text.count("✓ on time") == 2 and text.count("✗ late") == 1

    # The default period is this month; a bad date says so and falls back to it.
    assert admin.get("/assessment/").status_code == 200
    assert "YYYY-MM-DD" in admin.get("/assessment/", {"start": "soon"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    # Each role its own tables and lines.
    assert set(page_tables(signed_in(world, "sc_assess_auditor").get("/assessment/", query))) == set(tables)
    township = page_tables(signed_in(world, "sc_assess_township").get("/assessment/", query))
    assert {kind: set(keys) for kind, keys in township.items()} == {
        "departments": {"D-T01-LAW"}, "townships": {"T01"}, "grid_workers": {"shangcheng_gridworker"}}
    department = signed_in(world, "handler_d-jus")
    assert page_tables(department.get("/assessment/", query)) == {"departments": {"D-JUS": "65.83"}}
    assert department.get("/assessment/", {**query, "kind": "townships", "key": "T01",
                                           "metric": "satisfaction"}).status_code == 404
    assert department.get("/assessment/", {**query, "kind": "departments", "key": "D-PSB",
                                           "metric": "satisfaction"}).status_code == 404
    worker = signed_in(world, "shangcheng_gridworker").get("/assessment/", query)
    assert page_tables(worker) == {"grid_workers": {"shangcheng_gridworker": "63.60"}}
    assert 'href="/assessment/weights/"' not in worker.content.decode()
    # Others, another county's admin, a province user: 404; nobody signed in: sign in first.
    assert signed_in(world, "sc_assess_community").get("/assessment/").status_code == 404
    assert signed_in(world, "yuhang_admin").get("/assessment/").status_code == 404
    assert signed_in(world, "prov_admin").get("/assessment/").status_code == 404
    assert Client(HTTP_HOST=SHANGCHENG).get("/assessment/").status_code == 302


def test_rankings_number_their_places_print_and_export(world, scenario, more_staff):
    query = {"start": str(period_now().start), "end": str(period_now().end)}
    admin = signed_in(world, "shangcheng_admin")
    html = admin.get("/assessment/", query).content.decode()
    townships = html.split('data-kind="townships"')[1].split("</table>")[0]
    assert re.findall(r'data-key="([^"]+)" data-rank="(\d*)"', townships) == [("T01", "1"), ("T02", "2")]
    assert "data-print" in html and "/static/console/print.js" in html
    answer = admin.get("/assessment/", {**query, "format": "xlsx"})
    workbook = load_workbook(io.BytesIO(b"".join(answer.streaming_content)))
    sheet = workbook.worksheets[1]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][0] == 1 and rows[1][-1] == "61.58" and rows[2][0] == 2
    assert signed_in(world, "sc_assess_community").get("/assessment/", {"format": "xlsx"}).status_code == 404


def test_county_admins_change_weights_on_the_page_and_no_one_else(world, scenario, more_staff):
    for username in ("shangcheng_operator", "sc_assess_township", "shangcheng_gridworker"):
        client = signed_in(world, username)
        assert client.get("/assessment/weights/").status_code == 404
        assert client.post("/assessment/weights/", {"red_cards": "1"}).status_code == 404
    assert signed_in(world, "yuhang_admin").post("/assessment/weights/", {"red_cards": "1"}).status_code == 404
    assert Client(HTTP_HOST=SHANGCHENG).get("/assessment/weights/").status_code == 302
    with tenant_context(world.shangcheng):
        assert not AssessmentWeight.objects.exists()

    admin = signed_in(world, "shangcheng_admin")
    form = admin.get("/assessment/weights/")
    assert form.status_code == 200 and 'name="red_cards"' in form.content.decode()
    wrong = admin.post("/assessment/weights/", {"red_cards": "-3"}, HTTP_ACCEPT_LANGUAGE="en")
    assert wrong.status_code == 200 and "from 0 to 1000" in wrong.content.decode()
    with tenant_context(world.shangcheng):
        assert not AssessmentWeight.objects.exists()
    done = admin.post("/assessment/weights/", {"red_cards": "10", "satisfaction": "0"})
    assert done.status_code == 302 and done["Location"] == "/assessment/"
    query = {"start": str(period_now().start), "end": str(period_now().end)}
    assert page_tables(admin.get("/assessment/", query))["departments"]["D-JUS"] == "56.67"
