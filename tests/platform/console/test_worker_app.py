"""平安通, the grid worker's phone app at /m/: for this tenant's grid workers only; my grid,
reports (one case per key, however often it is sent), my tasks, household visits, and the
manifest and service worker that make it installable."""

from __future__ import annotations

import io
import json
import re
import threading
import time
import uuid
from datetime import timedelta

import pytest
from django.contrib.staticfiles import finders
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.http import Http404
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context
from PIL import Image

from civicgrid.platform.accounts.staff.models import StaffRole
from civicgrid.platform.audit.models import AuditEntry
from civicgrid.platform.cases import actions
from civicgrid.platform.cases.models import OPEN_STATUSES, Attachment, Case, CaseEvent, Level, Source, Status
from civicgrid.platform.notifications.models import Notification, OutboxEvent
from civicgrid.platform.org.models import OrgUnit
from civicgrid.platform.registry import actions as registry_actions
from civicgrid.platform.registry.models import HouseholdVisit
from civicgrid.platform.registry.selectors import head_count_in_grid
from tests.platform.cases.test_case_pages import IN_G01, IN_T02, member, staff

ROUTES_COVERED = {
    "worker-app": "test_every_route_is_for_this_tenants_grid_workers_only",
    "worker-report": "test_every_route_is_for_this_tenants_grid_workers_only",
    "worker-reports": "test_every_route_is_for_this_tenants_grid_workers_only",
    "worker-tasks": "test_every_route_is_for_this_tenants_grid_workers_only",
    "worker-households": "test_every_route_is_for_this_tenants_grid_workers_only",
    "worker-household": "test_every_route_is_for_this_tenants_grid_workers_only",
    "worker-manifest": "test_every_route_is_for_this_tenants_grid_workers_only",
    "worker-service-worker": "test_every_route_is_for_this_tenants_grid_workers_only",
}
SHANGCHENG, YUHANG = "shangcheng.localhost", "yuhang.localhost"
WORKER = "shangcheng_gridworker"  # T01-C01-G01


@pytest.fixture
def sc(world):
    """Shangcheng with a second grid worker (another township), a household in each of their
    grids; the test runs in its schema. Files written are removed afterwards."""
    with tenant_context(world.shangcheng):
        member("w_t02", StaffRole.GRID_WORKER, unit="T02-C01-G01")
        member("w_community", StaffRole.COMMUNITY_OPERATOR, unit="T01-C01")
        world.mine = registry_actions.create_household(
            staff=staff(WORKER), grid=OrgUnit.objects.get(code="T01-C01-G01"), number="W-G01-001",
            address="幸福社区3幢2单元101")
        world.theirs = registry_actions.create_household(
            staff=staff("w_t02"), grid=OrgUnit.objects.get(code="T02-C01-G01"), number="W-T02-001",
            address="新民社区8幢1单元202")
        before = set(Attachment.objects.values_list("pk", flat=True))
        yield world
        for item in Attachment.objects.exclude(pk__in=before):
            for name in filter(None, (item.file, item.thumbnail)):
                default_storage.delete(name)


def client(world, username: str | None, host: str = SHANGCHENG, language: str = "en") -> Client:
    browser = Client(HTTP_HOST=host, HTTP_ACCEPT_LANGUAGE=language)
    if username:
        browser.force_login(world.user(username))
    return browser


def in_schema(world, fn):
    with tenant_context(world.shangcheng):
        return fn()


def jpeg(colour=(200, 40, 30), name="现场.jpg") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(buffer, "JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def report_fields(**extra) -> dict:
    return {"category": "DSP-NEIGHBOUR", "title": "楼道堆放杂物", "description": "三楼楼道堆满纸箱",
            "address": "", "urgency": "", **{k: str(v) for k, v in IN_G01.items()}, **extra}


def send(browser: Client, key: str | None, **fields):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return browser.post("/m/reports/", fields, **headers)


# --- who gets in ------------------------------------------------------------------------------


def test_every_route_is_for_this_tenants_grid_workers_only(sc):
    world = sc
    household = f"/m/households/{world.mine.pk}/"
    pages = ["/m/", "/m/report/", "/m/tasks/", "/m/households/", household, "/m/manifest.webmanifest", "/m/sw.js"]
    worker = client(world, WORKER)
    for path in pages:
        response = worker.get(path)
        assert response.status_code == 200, (path, response.status_code)
    assert send(worker, None).status_code == 400, "a grid worker reaches the endpoint (and is told the key is missing)"

    anonymous = client(world, None)
    for path in [*pages, "/m/reports/"]:
        response = anonymous.get(path) if path != "/m/reports/" else anonymous.post(path, report_fields())
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], path

    # Another role here, another tenant's staff on this host, and this tenant's worker on another host.
    for outsider in (client(world, "shangcheng_operator"), client(world, "w_community"),
                     client(world, "yuhang_operator"), client(world, WORKER, host=YUHANG)):
        for path in pages:
            assert outsider.get(path).status_code == 404, path
        assert send(outsider, str(uuid.uuid4()), **report_fields(title="不该收到")).status_code == 404
    assert in_schema(world, lambda: Case.objects.filter(title="不该收到").exists()) is False

    # A household in another worker's grid is not there for this one.
    assert worker.get(f"/m/households/{world.theirs.pk}/").status_code == 404
    assert worker.post(f"/m/households/{world.theirs.pk}/", {"note": "不是我的网格"}).status_code == 404
    assert worker.get("/m/households/999999999/").status_code == 404
    assert worker.post("/m/manifest.webmanifest").status_code == 405


# --- my grid ------------------------------------------------------------------------------------


def test_my_grid_shows_its_name_counts_and_outline_with_local_assets_only(sc):
    world = sc
    with tenant_context(world.shangcheng):
        actions.report_case(staff=staff(WORKER), category="DSP-NEIGHBOUR", title="本月上报一", **IN_G01)
        actions.report_case(staff=staff("shangcheng_operator"), category="DSP-NEIGHBOUR", title="热线来的",
                            source=Source.HOTLINE_12345, **IN_G01)
        grid = OrgUnit.objects.get(code="T01-C01-G01")
        open_here = Case.objects.filter(org_path__startswith=grid.path, status__in=OPEN_STATUSES).count()
        mine = Case.objects.filter(reporter=world.user(WORKER), reported_at__gte=timezone.localtime().replace(
            day=1, hour=0, minute=0, second=0, microsecond=0)).count()
        head_count = head_count_in_grid(grid)
    page = client(world, WORKER).get("/m/")
    html = page.content.decode()
    assert 'data-grid="T01-C01-G01"' in html
    figures = dict(re.findall(r'data-figure="(\w+)">(?:<a [^>]+>)?<strong>([\d,]+)</strong>', html))
    assert figures == {"people": f"{head_count:,}", "open": f"{open_here:,}", "mine": f"{mine:,}"}
    assert "<svg class=\"grid-map\"" in html and re.search(r'<path class="outline" d="M[-\d. L]+Z"', html)
    assert len(re.findall(r"<circle class=\"pin light-", html)) >= 2
    assert 'rel="manifest" href="/m/manifest.webmanifest"' in html
    assert 'action="/i18n/setlang/"' in html, "the language switch posts to set_language"
    assert 'class="side"' not in html, "no console sidebar on the phone"
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and not [s for s in sources if s.startswith(("http:", "https:", "//"))], sources
    assert '<html lang="zh-hans">' in client(world, WORKER, language="").get("/m/").content.decode()


# --- reporting ---------------------------------------------------------------------------------


def test_a_report_sent_twice_with_the_same_key_is_one_case(sc):
    world = sc
    worker = client(world, WORKER)
    key = str(uuid.uuid4())
    first = send(worker, key, **report_fields(photos=[jpeg()]))
    assert first.status_code == 201, first.content.decode()
    answer = first.json()
    case = in_schema(world, lambda: Case.objects.get(number=answer["number"]))
    assert answer["url"] == f"/cases/{case.pk}/" and answer["replayed"] is False
    with tenant_context(world.shangcheng):
        assert (case.source, case.status, case.level, case.grid.code, case.client_key) == (
            Source.GRID_WORKER, Status.REPORTED, Level.COMMUNITY, "T01-C01-G01", key)
        assert case.attachments.filter(kind="image").count() == 1
        counts = (Case.objects.count(), Attachment.objects.count(), CaseEvent.objects.count())

    # The answer was lost on the way: the phone sends the same report again, photo and all.
    again = send(worker, key, **report_fields(photos=[jpeg()]))
    assert again.status_code == 200 and again.json()["number"] == answer["number"] and again.json()["replayed"]
    # Even when the form would now be judged differently, the stored report is the answer.
    changed = send(worker, key, **report_fields(title="", category=""))
    assert changed.status_code == 200 and changed.json()["number"] == answer["number"]
    assert in_schema(world, lambda: (Case.objects.count(), Attachment.objects.count(),
                                     CaseEvent.objects.count())) == counts

    # A new key is a new report.
    other = send(worker, str(uuid.uuid4()), **report_fields(title="另一处堆物"))
    assert other.status_code == 201 and other.json()["number"] != answer["number"]


def test_the_same_key_from_another_reporter_is_their_own_report(sc):
    key = str(uuid.uuid4())
    mine = actions.report_case(staff=staff(WORKER), category="DSP-NEIGHBOUR", title="键一", client_key=key, **IN_G01)
    theirs = actions.report_case(staff=staff("w_t02"), category="DSP-NEIGHBOUR", title="键二", client_key=key,
                                 **IN_T02)
    assert mine.pk != theirs.pk and not mine.replayed and not theirs.replayed
    repeated = actions.report_case(staff=staff(WORKER), category="DSP-NEIGHBOUR", title="键一", client_key=key,
                                   **IN_G01)
    assert repeated.pk == mine.pk and repeated.replayed
    # Reports without a key are never taken for one another.
    plain = [actions.report_case(staff=staff(WORKER), category="DSP-NEIGHBOUR", title="无键", **IN_G01)
             for _ in range(2)]
    assert plain[0].pk != plain[1].pk
    with pytest.raises(ValidationError) as refused:
        actions.report_case(staff=staff(WORKER), category="DSP-NEIGHBOUR", title="长键", client_key="k" * 65,
                            **IN_G01)
    assert "client_key" in refused.value.message_dict


def test_two_sends_of_one_report_at_once_make_one_case(committed):
    """The second request arrives while the first is still being stored: it waits on the
    unique constraint, fails inside its savepoint and answers with the case that won."""
    world = committed
    key = str(uuid.uuid4())
    stored, answers, errors = threading.Event(), [], []

    def first():
        try:
            with tenant_context(world.shangcheng), transaction.atomic():
                answers.append(actions.report_case(staff=staff(WORKER), category="DSP-NEIGHBOUR", title="并发一次",
                                                   client_key=key, **IN_G01))
                stored.set()
                time.sleep(0.5)  # the second one is waiting on us now
        except Exception as exc:  # pragma: no cover - shown by the assertion below
            errors.append(exc)
        finally:
            stored.set()
            connection.close()

    def second():
        try:
            stored.wait(5)
            with tenant_context(world.shangcheng):
                answers.append(actions.report_case(staff=staff(WORKER), category="DSP-NEIGHBOUR", title="并发一次",
                                                   client_key=key, **IN_G01))
        except Exception as exc:  # pragma: no cover
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == []
        assert len(answers) == 2 and answers[0].pk == answers[1].pk
        assert [answer.replayed for answer in answers] == [False, True]
        with tenant_context(world.shangcheng):
            assert Case.objects.filter(client_key=key).count() == 1
            assert CaseEvent.objects.filter(case__client_key=key).count() == 1
    finally:
        with tenant_context(world.shangcheng):
            made = list(Case.objects.filter(client_key=key).values_list("pk", flat=True))
            Notification.objects.filter(case_id__in=made).delete()
            OutboxEvent.objects.filter(payload__case_id__in=made).delete()
            Case.objects.filter(pk__in=made).delete()


def test_bad_reports_are_refused_with_reasons_per_field_and_store_nothing(sc):
    world = sc
    worker = client(world, WORKER)
    counts = in_schema(world, lambda: (Case.objects.count(), Attachment.objects.count(), CaseEvent.objects.count()))

    empty = send(worker, str(uuid.uuid4()), category="", title="")
    assert empty.status_code == 400
    assert empty.json()["errors"]["title"] == ["This field is required."]
    assert "category" in empty.json()["errors"]

    nowhere = send(worker, str(uuid.uuid4()), **report_fields(latitude="", longitude=""))
    assert nowhere.status_code == 400 and "Give the location" in nowhere.json()["errors"]["location"][0]

    script = SimpleUploadedFile("photo.jpg", b"#!/bin/sh\nrm -rf /\n", content_type="image/jpeg")
    bad_photo = send(worker, str(uuid.uuid4()), **report_fields(title="坏照片", photos=[jpeg(), script]))
    assert bad_photo.status_code == 400 and bad_photo.json()["errors"]["photos"][0].startswith("photo.jpg:")

    for key in (None, "", "short", "x" * 65, "no spaces allowed here"):
        no_key = send(worker, key, **report_fields(title="没有键"))
        assert no_key.status_code == 400 and "__all__" in no_key.json()["errors"], key

    chinese = send(client(world, WORKER, language="zh-hans"), str(uuid.uuid4()), category="", title="")
    assert chinese.status_code == 400 and chinese.json()["errors"]["title"] != ["This field is required."]
    assert in_schema(world, lambda: (Case.objects.count(), Attachment.objects.count(),
                                     CaseEvent.objects.count())) == counts


def test_the_report_page_works_as_a_plain_form_too(sc):
    world = sc
    worker = client(world, WORKER)
    form = worker.get("/m/report/").content.decode()
    assert 'capture="environment"' in form and 'accept="image/*"' in form and "<optgroup" in form
    assert 'name="source"' not in form and "data-report-form" in form and "data-grid-map" in form
    response = worker.post("/m/report/", {**report_fields(title="没有脚本也能报"), "photos": [jpeg()]})
    assert response.status_code == 302 and response["Location"] == "/m/"
    case = in_schema(world, lambda: Case.objects.select_related("grid").get(title="没有脚本也能报"))
    assert case.source == Source.GRID_WORKER and case.grid.code == "T01-C01-G01" and case.client_key == ""
    assert "data-flash" in worker.get("/m/").content.decode()
    refused = worker.post("/m/report/", {**report_fields(title=""), "photos": [jpeg()]})
    assert refused.status_code == 400 and "choose them again" in refused.content.decode()


# --- tasks -------------------------------------------------------------------------------------------


def test_my_tasks_are_the_open_cases_of_my_grid_red_first(sc):
    world = sc
    with tenant_context(world.shangcheng):
        fresh = actions.report_case(staff=staff(WORKER), category="DSP-NEIGHBOUR", title="新上报的", **IN_G01)
        late = actions.report_case(staff=staff(WORKER), category="DSP-NEIGHBOUR", title="超时的", **IN_G01)
        Case.objects.filter(pk=late.pk).update(accept_due=timezone.now() - timedelta(hours=3),
                                               accept_warn_at=timezone.now() - timedelta(hours=4))
        elsewhere = actions.report_case(staff=staff("w_t02"), category="DSP-NEIGHBOUR", title="别的网格", **IN_T02)
    html = client(world, WORKER).get("/m/tasks/").content.decode()
    numbers = re.findall(r'data-case="([^"]+)"', html)
    assert late.number in numbers and fresh.number in numbers and elsewhere.number not in numbers
    assert numbers.index(late.number) < numbers.index(fresh.number)
    assert f'href="/cases/{late.pk}/"' in html
    assert re.search(rf'data-case="{late.number}" data-light="red"', html)


# --- household visits ------------------------------------------------------------------------------


def test_a_visit_is_recorded_for_a_household_of_my_grid(sc):
    world = sc
    worker = client(world, WORKER)
    listing = worker.get("/m/households/").content.decode()
    assert 'data-household="W-G01-001"' in listing and 'data-household="W-T02-001"' not in listing
    assert 'data-last-visit=""' in listing

    page = f"/m/households/{world.mine.pk}/"
    assert worker.post(page, {"note": "   "}).status_code == 400
    assert worker.post(page, {"note": "家中老人身体尚可", "latitude": "north", "longitude": "120"}).status_code == 400
    assert in_schema(world, lambda: HouseholdVisit.objects.count()) == 0

    response = worker.post(page, {"note": "家中老人身体尚可，提醒注意用电安全", "latitude": "30.2451234",
                                  "longitude": "120.1751234"})
    assert response.status_code == 302 and response["Location"] == page
    with tenant_context(world.shangcheng):
        visit = HouseholdVisit.objects.get(household=world.mine)
        assert visit.visited_by == world.user(WORKER) and str(visit.latitude) == "30.245123"
        entry = AuditEntry.objects.get(action="registry.household_visited", target_id=str(visit.pk))
        assert entry.data["household"] == "W-G01-001" and "老人" not in json.dumps(entry.data, ensure_ascii=False)
    assert f'data-visit="{visit.pk}"' in worker.get(page).content.decode()
    listing = worker.get("/m/households/").content.decode()
    assert 'data-last-visit=""' not in listing and f'data-visit="{visit.pk}"' in listing
    found = worker.get("/m/households/?q=3幢").content.decode()
    assert 'data-household="W-G01-001"' in found
    assert 'data-household="W-G01-001"' not in worker.get("/m/households/?q=nowhere").content.decode()


def test_the_visit_action_checks_scope_time_and_position(sc):
    world = sc
    with pytest.raises(Http404):
        registry_actions.record_household_visit(staff=staff(WORKER), household=world.theirs, note="越界")
    with pytest.raises(Http404):  # an auditor sees the household but keeps no registry
        registry_actions.record_household_visit(staff=member("w_auditor", StaffRole.AUDITOR),
                                                household=world.mine, note="审计")
    with pytest.raises(ValidationError) as refused:
        registry_actions.record_household_visit(staff=staff(WORKER), household=world.mine, note="明天的",
                                                visited_at=timezone.now() + timedelta(days=1),
                                                latitude="91", longitude="120")
    assert set(refused.value.message_dict) == {"visited_at", "location"}
    visit = registry_actions.record_household_visit(staff=staff(WORKER), household=world.mine, note="昨天去过",
                                                    visited_at=timezone.now() - timedelta(days=1))
    assert visit.latitude is None and HouseholdVisit.objects.filter(household=world.mine).count() == 1


# --- installing ---------------------------------------------------------------------------------


def test_the_app_installs_from_its_manifest_and_service_worker(sc):
    world = sc
    worker = client(world, WORKER)
    response = worker.get("/m/manifest.webmanifest")
    assert response["Content-Type"].startswith("application/manifest+json")
    manifest = response.json()
    assert (manifest["start_url"], manifest["scope"], manifest["display"]) == ("/m/", "/m/", "standalone")
    sizes = {icon["sizes"]: icon["src"] for icon in manifest["icons"]}
    assert set(sizes) == {"192x192", "512x512"}
    for size, src in sizes.items():
        found = finders.find(src.removeprefix("/static/"))
        with Image.open(found) as image:
            assert image.format == "PNG" and f"{image.width}x{image.height}" == size

    script = worker.get("/m/sw.js")
    assert script["Content-Type"].startswith("application/javascript")
    assert "no-cache" in script["Cache-Control"] or "max-age=0" in script["Cache-Control"]
    body = script.content.decode()
    for asset in ("/static/console/worker/app.js", "/static/console/worker/app.css", "/static/console/worker/icon-512.png"):
        assert asset in body
    assert '"/m/report/"' in body and '"/m/tasks/"' not in body, "lists of cases are not kept on the phone"
    for asset in ("console/worker/app.js", "console/worker/app.css"):
        assert finders.find(asset)
