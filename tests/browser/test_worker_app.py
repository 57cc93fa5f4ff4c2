"""平安通 in real Chromium on a 375 px phone: a grid worker signs in, opens /m/, loses the
network, reports a problem with a photo and the phone's position, sees it wait on the phone
(also across a reload, the page then coming from the service worker), gets the network back
and the report arrives, exactly once; a report whose answer was lost is sent again and still
makes one case. Then the tasks, the households and a visit.

The server is Django's live-server thread (``site_server`` from the community sites' test);
the database is read outside the browser block (``off_loop`` inside it). Screenshots land in
docs/screenshots/ for a person to look at."""

from __future__ import annotations

import json
import re
import uuid

import pytest
from django.core.files.storage import default_storage
from django_tenants.utils import tenant_context

from civicgrid.platform.cases import actions as case_actions
from civicgrid.platform.cases.models import Attachment, Case, Source
from civicgrid.platform.notifications.models import Notification, OutboxEvent
from civicgrid.platform.org.models import OrgUnit
from civicgrid.platform.registry import actions as registry_actions
from civicgrid.platform.registry.models import Household, HouseholdVisit
from tests.browser.conftest import sign_in
from tests.browser.test_community_sites import SHOTS, foreign_requests, off_loop, photo_jpeg, site_server  # noqa: F401
from tests.platform.cases.test_workflow import staff
from tests.world import PASSWORD

pytestmark = pytest.mark.slow
expect = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (pip install playwright)").expect

PHONE = {"width": 375, "height": 740}
WORKER = "shangcheng_gridworker"  # T01-C01-G01: 120.17–120.18 E, 30.24–30.25 N
HERE = {"latitude": 30.2452, "longitude": 120.1753}
HOUSEHOLD = "BW-G01-0001"


def fits_the_phone(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "wider than the phone"


def shot(page, name: str, at: str = "") -> None:
    """What the phone's screen shows, from the top or with ``at`` (a selector) in view."""
    if at:
        page.locator(at).first.evaluate("node => node.scrollIntoView({block: 'start'})")
        page.evaluate("window.scrollBy(0, -60)")  # below the sticky bar
    else:
        page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SHOTS / f"worker-app-{name}.png"))


@pytest.fixture
def worker_world(committed):
    """A household in the worker's grid and a report already on the server under a key the
    phone will send again (its answer lost); gone again afterwards with what the test made."""
    world = committed
    marker = uuid.uuid4().hex[:6]
    lost_key = str(uuid.uuid4())
    with tenant_context(world.shangcheng):
        household = registry_actions.create_household(
            staff=staff(WORKER), grid=OrgUnit.objects.get(code="T01-C01-G01"), number=HOUSEHOLD,
            address="幸福社区5幢1单元302")
        lost = case_actions.report_case(staff=staff(WORKER), category="HAZ-MANHOLE", title=f"答复丢失的上报 {marker}",
                                        client_key=lost_key, **HERE)
    world.marker, world.lost_key, world.lost_number = marker, lost_key, lost.number
    world.household = household
    yield world
    with tenant_context(world.shangcheng):
        made = list(Case.objects.filter(title__endswith=marker).values_list("pk", flat=True))
        for item in Attachment.objects.filter(case_id__in=made):
            for name in filter(None, (item.file, item.thumbnail)):
                default_storage.delete(name)
        Notification.objects.filter(case_id__in=made).delete()
        OutboxEvent.objects.filter(payload__case_id__in=made).delete()
        Case.objects.filter(pk__in=made).delete()
        HouseholdVisit.objects.filter(household__number=HOUSEHOLD).delete()
        Household.objects.filter(number=HOUSEHOLD).delete()


def put_in_queue(page, item: dict) -> None:
    """What the app itself stores when a send fails: the report under its key, in IndexedDB."""
    page.evaluate("""(item) => new Promise((resolve, reject) => {
        const open = indexedDB.open("civicgrid-worker", 1);
        open.onupgradeneeded = () => open.result.createObjectStore("reports", { keyPath: "id" });
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const db = open.result, tx = db.transaction("reports", "readwrite");
          tx.objectStore("reports").put(item);
          tx.oncomplete = () => { db.close(); resolve(); };
          tx.onerror = () => reject(tx.error);
        };
    })""", item)


def test_a_report_made_offline_arrives_exactly_once(chromium, worker_world, site_server):  # noqa: F811
    world = worker_world
    host = f"shangcheng.localhost:{site_server}"
    base = f"http://{host}"
    title = f"人行道井盖缺失 {world.marker}"
    SHOTS.mkdir(parents=True, exist_ok=True)
    with chromium(viewport=PHONE, mobile=True) as page:
        requested = []
        page.on("request", lambda request: requested.append(request.url))
        context = page.context
        context.grant_permissions(["geolocation"], origin=base)
        context.set_geolocation(HERE)
        sign_in(page, base, WORKER, PASSWORD, next_path="/m/")
        page.wait_for_url(f"{base}/m/")

        # My grid, and the app installs itself: the service worker takes the page over.
        expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
        expect(page.locator("h1[data-grid]")).to_have_attribute("data-grid", "T01-C01-G01")
        expect(page.locator("svg[data-grid-map] path.outline")).to_be_visible()
        page.wait_for_function("() => navigator.serviceWorker.controller !== null")
        # Chromium read the manifest (sent with the session) and has nothing against installing
        # the app, but that this browser context is a private one.
        devtools = context.new_cdp_session(page)
        manifest = devtools.send("Page.getAppManifest")
        assert manifest["url"].endswith("/m/manifest.webmanifest") and manifest["errors"] == []
        assert json.loads(manifest["data"])["start_url"] == "/m/"
        installability = devtools.send("Page.getInstallabilityErrors")["installabilityErrors"]
        assert {error["errorId"] for error in installability} <= {"in-incognito"}, installability
        devtools.detach()
        fits_the_phone(page)
        shot(page, "home")

        # A report whose answer never reached the phone: it waits under its key and goes again.
        put_in_queue(page, {"id": world.lost_key, "user": WORKER, "created": "2026-01-01T08:00:00Z",
                            "label": "", "photos": [],
                            "fields": {"category": "HAZ-MANHOLE", "title": f"答复丢失的上报 {world.marker}",
                                       "description": "", "latitude": str(HERE["latitude"]),
                                       "longitude": str(HERE["longitude"]), "address": "", "urgency": ""}})
        page.reload()
        expect(page.locator(f'[data-sent="{world.lost_number}"]')).to_be_visible()
        expect(page.locator("[data-queued]")).to_have_count(0)

        # To the report form; the position comes from the phone.
        page.locator("nav.tabs a[data-tab=report]").tap()
        page.wait_for_url(f"{base}/m/report/")
        expect(page.locator("input[name=latitude]")).to_have_value("30.245200")
        expect(page.locator("input[name=longitude]")).to_have_value("120.175300")
        expect(page.locator("svg[data-grid-map] [data-here]")).to_be_visible()

        # The network goes. The report is made all the same.
        context.set_offline(True)
        expect(page.locator("[data-net]")).to_have_class(re.compile(r"\boffline\b"))
        page.select_option("#id_category", "HAZ-MANHOLE")
        page.fill("#id_title", title)
        page.fill("#id_description", "人行道上的井盖不见了，已放置临时警示")
        page.set_input_files("#id_photos", files=[{"name": "井盖.jpg", "mimeType": "image/jpeg",
                                                   "buffer": photo_jpeg()}])
        expect(page.locator("[data-previews] img")).to_have_count(1)
        fits_the_phone(page)
        shot(page, "report")
        shot(page, "report-where", at="[data-field=location]")
        page.locator("[data-submit]").tap()

        queued = page.locator("[data-queue-list] [data-queued]")
        expect(queued).to_have_count(1)
        expect(queued).to_have_attribute("data-state", re.compile(r"^(waiting|offline)$"))
        expect(queued.locator("[data-queued-title]")).to_have_text(title)
        expect(page.locator("[data-form-alert]")).to_be_visible()
        expect(page.locator("[data-queue-badge]")).to_be_visible()
        expect(page.locator("[data-queue-badge] [data-queue-count]")).to_have_text("1")
        expect(page.locator("#id_title")).to_have_value("")  # ready for the next one
        fits_the_phone(page)
        shot(page, "queued")

        # Still offline, the page is opened again: the service worker gives the page it kept, the report still waits.
        kept_from = page.locator("body").get_attribute("data-rendered-at")
        page.wait_for_timeout(1100)  # a page made now would say a later second
        reopened = page.reload()
        assert reopened is None or reopened.from_service_worker
        expect(page.locator("[data-report-form]")).to_be_visible()
        assert page.locator("body").get_attribute("data-rendered-at") == kept_from, "not the kept page"
        expect(page.locator("[data-queue-list] [data-queued]")).to_have_count(1)

        # The network is back: the report goes, once.
        context.set_offline(False)
        sent = page.locator("[data-sent-list] [data-sent]")
        expect(sent).to_have_count(1, timeout=20_000)
        expect(page.locator("[data-queued]")).to_have_count(0)
        expect(page.locator("[data-queue-badge]")).to_be_hidden()
        number = sent.get_attribute("data-sent")
        assert re.fullmatch(r"330102-\d{8}-\d+", number), number
        fits_the_phone(page)
        shot(page, "sent")

        # Opened again: nothing waits, nothing goes a second time.
        page.reload()
        expect(page.locator("[data-report-form]")).to_be_visible()
        page.wait_for_timeout(1500)
        expect(page.locator("[data-queued]")).to_have_count(0)
        expect(page.locator("[data-sent]")).to_have_count(0)

        # My tasks: the new report is among them, with a link to its page.
        page.locator("nav.tabs a[data-tab=tasks]").tap()
        page.wait_for_url(f"{base}/m/tasks/")
        task = page.locator(f'[data-case="{number}"]')
        expect(task).to_be_visible()
        expect(task.locator("a")).to_have_attribute("href", re.compile(r"^/cases/\d+/$"))
        fits_the_phone(page)
        shot(page, "tasks")

        # A household visit, with the phone's position.
        page.locator("nav.tabs a[data-tab=households]").tap()
        page.wait_for_url(f"{base}/m/households/")
        home = page.locator(f'[data-household="{HOUSEHOLD}"]')
        expect(home.locator("[data-last-visit]")).to_have_attribute("data-last-visit", "")
        fits_the_phone(page)
        shot(page, "households")
        home.locator("a").tap()
        page.wait_for_url(re.compile(r"/m/households/\d+/$"))
        expect(page.locator("input[name=latitude]")).to_have_value("30.245200")
        page.fill("#id_note", "独居老人王大爷在家，身体尚好；提醒冬季用电安全")
        shot(page, "visit-form")
        page.locator("[data-visit-form] button[type=submit]").tap()
        expect(page.locator("[data-flash]")).to_be_visible()
        expect(page.locator("[data-visit]")).to_have_count(1)
        fits_the_phone(page)
        shot(page, "visit", at="[data-visit]")

        # The sign-in page (the console's) has no icon of its own: the browser's guess at one is not ours.
        failures = [p for p in page.problems if not p.startswith("request failed") and "/favicon.ico" not in p]
        assert failures == [], failures
        # The only failed requests are the ones made while the network was away.
        assert all("/m/" in p for p in page.problems if p.startswith("request failed")), page.problems
    assert foreign_requests(requested, host) == []

    with tenant_context(world.shangcheng):
        made = Case.objects.filter(title=title)
        assert made.count() == 1, "one report, one case"
        case = made.select_related("grid").get()
        assert case.number == number and case.source == Source.GRID_WORKER and case.grid.code == "T01-C01-G01"
        assert (case.latitude, case.longitude) == (HERE["latitude"], HERE["longitude"])
        assert case.client_key and case.reporter.username == WORKER
        assert Attachment.objects.filter(case=case, kind="image").count() == 1
        assert Case.objects.filter(title=f"答复丢失的上报 {world.marker}").count() == 1, "sent again, still one"
        visit = HouseholdVisit.objects.get(household__number=HOUSEHOLD)
        assert visit.visited_by.username == WORKER and visit.latitude is not None
