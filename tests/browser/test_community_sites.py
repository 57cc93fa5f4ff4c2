"""A community's resident site in real Chromium, on a phone: a resident confirms their
phone, reports a problem with a photo and a point tapped on the grid map, gets a
tracking number and a QR code, and watches the case move once the command centre
dispatches it. And an editor's notice goes through moderation in Wagtail's admin
before it shows on the site.

The server here is Django's live-server thread in this process (WSGI: these pages use
no websockets), not the daphne child of ``asgi_server``: the phone's one-time code is
written to the server's log, and a logging handler in this process hears it.
Screenshots land in SHOTS, in the repository, for a person to look at."""

from __future__ import annotations

import io
import logging
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from captcha.models import CaptchaStore
from django.contrib.auth.models import Group
from django.core.files.storage import default_storage
from django.db import connections
from django_tenants.utils import tenant_context
from PIL import Image, ImageDraw
from wagtail.models import Page, Site, Task, Workflow

from civicgrid.cms import actions as cms_actions
from civicgrid.cms.models import ArticlePage, CommunitySite, ResidentReport
from civicgrid.platform.accounts.actions import create_staff_member
from civicgrid.platform.accounts.models import User
from civicgrid.platform.accounts.staff.models import StaffProfile, StaffRole
from civicgrid.platform.cases import actions as case_actions
from civicgrid.platform.cases.models import Attachment, Case, Source, Status
from civicgrid.platform.notifications.models import OutboxEvent
from civicgrid.platform.org.models import OrgUnit
from civicgrid.tenants.models import Domain
from tests.platform.cases.test_workflow import staff
from tests.world import PASSWORD

pytestmark = pytest.mark.slow
expect = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (pip install playwright)").expect

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PHONE = {"width": 375, "height": 740}
COMMUNITY, SLUG = "T01-C01", "xingfu"
DESCRIPTION = "楼上住户装修，电钻声每天响到晚上十点以后，沟通几次都没有用"
EDITOR, MODERATOR = "browser_xingfu_editor", "browser_xingfu_moderator"
NOTICE_TITLE, NOTICE_SLUG = "关于周六上午停水的通知", "water-stop"
NOTICE_TEXT = "因管网检修，本周六8:00至12:00幸福社区停水，请居民提前储水。"


# --- the server, the database beside the browser, cleaning up -------------------------------------


@pytest.fixture(scope="module")
def site_server(django_db_setup):
    """Django's live-server thread (static files from the finders); yields its port."""
    from django.test.testcases import LiveServerThread, _StaticFilesHandler

    server = LiveServerThread("127.0.0.1", _StaticFilesHandler)
    server.daemon = True
    server.start()
    server.is_ready.wait()
    if server.error:
        raise server.error
    yield server.port
    server.terminate()


def off_loop(function, *args, **kwargs):
    """``function`` on a thread of its own. Playwright's sync API leaves an event loop
    marked running on this thread while a browser is open, and Django refuses the ORM
    there; a fresh thread has no loop (and its own connection, closed after)."""

    def call():
        try:
            return function(*args, **kwargs)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call).result()


def challenge_answer(key: str) -> str:
    """The test's oracle for the challenge picture, as a person's eyes are."""
    return CaptchaStore.objects.get(hashkey=key).response


class CodeLog(logging.Handler):
    """Hears the one-time codes the server logs (CIVICGRID_LOG_PHONE_CODES)."""

    def __init__(self):
        super().__init__(level=logging.WARNING)
        self.codes: list[str] = []

    def emit(self, record):
        found = re.search(r"one-time code for .*: (\d{6})", record.getMessage())
        if found:
            self.codes.append(found.group(1))


@pytest.fixture
def code_log():
    handler = CodeLog()
    logger = logging.getLogger("civicgrid.cms.phone")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


def photo_jpeg() -> bytes:
    image = Image.new("RGB", (480, 360), (200, 196, 186))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 480, 60), fill=(150, 140, 130))  # the ceiling
    draw.line((120, 60, 360, 300), fill=(90, 80, 70), width=6)  # a crack
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


@pytest.fixture
def xingfu(committed) -> CommunitySite:
    """幸福社区's site, committed, made by the real action; gone again afterwards, with the
    county's CMS admins' group if the site was the first to make it."""
    world = committed
    admins = f"{world.shangcheng.schema_name}:cms:admins"
    had_admins = Group.objects.filter(name=admins).exists()
    discard_site(world, SLUG)
    with tenant_context(world.shangcheng):
        made = cms_actions.create_site(community_code=COMMUNITY, slug=SLUG, acting_staff=None)
    yield made
    discard_site(world, SLUG)
    if not had_admins:
        with tenant_context(world.shangcheng):  # its page and collection permissions live in the tenant
            Group.objects.filter(name=admins).delete()


def discard_site(world, slug: str) -> None:
    """A community site and everything ``create_site`` made for it, committed or not:
    its cases from residents, its Wagtail site, its host in public, its page tree, its
    collection, its workflow and task, its two groups."""
    host = f"{slug}.{world.shangcheng.primary_domain}"
    with tenant_context(world.shangcheng):
        made = CommunitySite.objects.filter(slug=slug).select_related("site").first()
        if made is not None:
            site, home = made.site, made.site.root_page
            for report in ResidentReport.objects.filter(site=site).select_related("case"):
                discard_case(report.case)
            workflows = list(Workflow.objects.filter(workflow_pages__page=home))
            tasks = [task.specific for task in Task.objects.filter(workflow_tasks__workflow__in=workflows)]
            groups = [made.editors, made.moderators]
            collection = made.collection
            made.delete()
            site.delete()  # its phone codes go with it
            Page.objects.get(pk=home.pk).delete()  # and the tree below it, with revisions and workflow states
            for item in workflows + tasks:
                item.delete()
            collection.delete()  # and its images and documents
            for group in groups:
                group.delete()
        Site.clear_site_root_paths_cache()
    Domain.objects.filter(domain=host).delete()


def discard_case(case: Case) -> None:
    for item in Attachment.objects.filter(case=case):
        for name in filter(None, (item.file, item.thumbnail)):
            default_storage.delete(name)
    OutboxEvent.objects.filter(payload__case_id=case.pk).delete()
    case.delete()  # its timeline, files, notifications and the site's record of it go with it


def discard_users(world, *usernames: str) -> None:
    with tenant_context(world.shangcheng):
        StaffProfile.objects.filter(user__username__in=usernames).delete()
        User.objects.filter(username__in=usernames).delete()


def foreign_requests(urls: list[str], host: str) -> list[str]:
    """Requests that left the server under test (a CDN, a font, a map tile, an avatar)."""
    return [url for url in urls if not url.startswith(("data:", "blob:")) and urlsplit(url).netloc != host]


def fits_the_phone(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "wider than the phone"


# --- 1. a resident reports on a phone and follows the case -----------------------------------------


def confirm_phone(page, phone: str, code_log: CodeLog) -> None:
    """On the phone form (where the site sends a resident who has not confirmed): the
    number and the sum in the picture, then the code the server texts (logs)."""
    expect(page.locator("h1")).to_have_text("验证手机号")
    page.wait_for_function("() => document.querySelector('.challenge img').naturalWidth > 0")
    page.fill("#id_phone", phone)
    key = page.locator("input[name=challenge_0]").get_attribute("value")
    page.fill("input[name=challenge_1]", off_loop(challenge_answer, key))
    sent = len(code_log.codes)
    page.locator("form.card button").tap()
    code = page.locator("#id_code")
    expect(code).to_be_visible()
    assert len(code_log.codes) == sent + 1, code_log.codes
    code.fill(code_log.codes[-1])
    page.locator("form.card button").tap()


def accept_and_dispatch(world, number: str) -> str:
    """The command centre takes the case and sends it on (routing rule); the department's name."""
    with tenant_context(world.shangcheng):
        operator = staff("shangcheng_operator")
        case = Case.objects.get(number=number)
        case = case_actions.accept_case(staff=operator, case_id=case.pk, comment="内部：请尽快派遣")
        case = case_actions.dispatch_case(staff=operator, case_id=case.pk)
        return case.department.name


def test_a_resident_reports_from_a_phone_and_follows_the_case(chromium, committed, xingfu, site_server, code_log):
    world = committed
    host = f"{SLUG}.shangcheng.localhost:{site_server}"
    base = f"http://{host}"
    SHOTS.mkdir(parents=True, exist_ok=True)
    with chromium(viewport=PHONE, mobile=True) as page:
        requested = []
        page.on("request", lambda request: requested.append(request.url))
        page.goto(f"{base}/")
        expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
        expect(page.locator(".site-name")).to_have_text("幸福社区")
        report = page.locator("main a[href='/report/']")
        expect(report).to_have_text("我要报事")
        fits_the_phone(page)
        page.screenshot(path=str(SHOTS / "community-site-home-phone.png"), full_page=True)
        report.tap()

        page.wait_for_url(re.compile(r"/phone/\?next=%2Freport%2F$"))  # confirm the phone first
        confirm_phone(page, "13912345678", code_log)
        page.wait_for_url(f"{base}/report/")

        # The report: what, where (a tap on the grid map), a photo, the sum again.
        expect(page.locator("main")).to_contain_text("139****5678")  # the confirmed phone, masked
        page.select_option("#id_category", "DSP-NEIGHBOUR")
        page.fill("#id_description", DESCRIPTION)
        page.fill("#id_address", "幸福社区3幢2单元")
        grid_map = page.locator("svg[data-map]")
        grid = grid_map.locator("path").first
        expect(grid).to_be_visible()
        box, frame = grid.bounding_box(), grid_map.bounding_box()
        grid_map.tap(position={"x": box["x"] - frame["x"] + box["width"] / 2,
                               "y": box["y"] - frame["y"] + box["height"] / 2})
        expect(page.locator("[data-picked]")).to_be_visible()
        expect(grid_map.locator("circle")).to_be_visible()
        latitude = page.locator("#id_latitude").input_value()
        longitude = page.locator("#id_longitude").input_value()
        assert re.fullmatch(r"\d+\.\d{6}", latitude) and re.fullmatch(r"\d+\.\d{6}", longitude)
        page.set_input_files("#id_photos", files=[
            {"name": "天花板.jpg", "mimeType": "image/jpeg", "buffer": photo_jpeg()}])
        page.fill("#id_name", "王女士")
        key = page.locator("input[name=challenge_0]").get_attribute("value")
        page.fill("input[name=challenge_1]", off_loop(challenge_answer, key))
        fits_the_phone(page)
        page.screenshot(path=str(SHOTS / "community-site-report-phone.png"), full_page=True)
        page.locator("form.report-form button.big").tap()

        # Done: the tracking number and the QR code that opens the tracking page.
        number = page.locator("[data-tracking-number]")
        expect(number).to_have_text(re.compile(r"^330102-\d{8}-\d+$"))
        number = number.inner_text().strip()
        expect(page.locator(".qr svg")).to_be_visible()
        track_link = page.locator("[data-track-link]")
        assert track_link.get_attribute("href") == f"{base}/track/?code={number}&phone4=5678"
        fits_the_phone(page)
        page.screenshot(path=str(SHOTS / "community-site-report-done-phone.png"), full_page=True)
        track_link.tap()
        page.wait_for_url(re.compile(r"/track/\?code="))
        expect(page.locator("[data-status]")).to_have_attribute("data-status", Status.REPORTED)

        # The command centre accepts and dispatches it (the engine's actions, as the console does).
        department = off_loop(accept_and_dispatch, world, number)
        page.reload()
        expect(page.locator("[data-status]")).to_have_attribute("data-status", Status.DISPATCHED)
        expect(page.locator(".timeline li")).to_have_count(3)
        expect(page.locator(".timeline li").last).to_contain_text(department)
        expect(page.locator(".timeline")).not_to_contain_text("内部")  # the operator's note stays inside
        expect(page.locator(".qr svg")).to_be_visible()
        fits_the_phone(page)
        page.screenshot(path=str(SHOTS / "community-site-track-phone.png"), full_page=True)
        assert page.problems == []
    assert foreign_requests(requested, host) == []

    with tenant_context(world.shangcheng):
        case = Case.objects.select_related("grid", "department").get(number=number)
        assert (case.source, case.status, case.reporter_name) == (Source.RESIDENT_SITE, Status.DISPATCHED, "王女士")
        assert case.description == DESCRIPTION and case.department.name == department
        assert (case.latitude, case.longitude) == (float(latitude), float(longitude))
        assert case.grid is not None and case.grid.code.startswith(f"{COMMUNITY}-")  # the tapped grid
        assert Attachment.objects.filter(case=case, kind="image").count() == 1
        assert ResidentReport.objects.get(case=case).site.hostname == f"{SLUG}.shangcheng.localhost"


def test_the_grid_map_shows_the_communitys_grids_on_a_phone(chromium, xingfu, site_server, code_log):
    base = f"http://{SLUG}.shangcheng.localhost:{site_server}"
    with chromium(viewport=PHONE, mobile=True) as page:
        page.goto(f"{base}/report/")
        confirm_phone(page, "13912340000", code_log)
        page.wait_for_url(f"{base}/report/")
        grid_map = page.locator("svg[data-map]")
        expect(grid_map.locator("path")).to_have_count(2)  # T01-C01's two grids
        expect(grid_map.locator("text")).to_have_count(2)
        frame = grid_map.bounding_box()
        for label in grid_map.locator("text").all():
            box = label.bounding_box()
            assert box["height"] < frame["height"] / 4 and box["width"] <= frame["width"], (box, frame)


# --- 2. an editor's notice goes through moderation ---------------------------------------------------


def sign_in_to_the_editor(page, console: str, username: str) -> None:
    """The console's sign-in page, then on to Wagtail's admin."""
    page.goto(f"{console}/accounts/login/?next=/cms-admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("form.stacked button[type=submit]")
    page.wait_for_url(f"{console}/cms-admin/")


def editor_and_moderator(world, made: CommunitySite) -> int:
    """An editor of the site and the community's operator (its moderator); the notices page's id."""
    discard_users(world, EDITOR, MODERATOR)
    with tenant_context(world.shangcheng):
        cms_actions.add_editor(site=made, username=EDITOR, full_name="社区编辑", password=PASSWORD)
        create_staff_member(username=MODERATOR, password=PASSWORD, role=StaffRole.COMMUNITY_OPERATOR,
                            full_name="社区审核员", scope_org_unit=OrgUnit.objects.get(code=COMMUNITY),
                            acting_user=None)
        cms_actions.sync_site_groups()
        assert Group.objects.filter(user__username=MODERATOR, pk=made.moderators_id).exists()
        return made.site.root_page.get_children().get(slug="notices").pk


def test_an_editors_notice_is_published_through_moderation(chromium, committed, xingfu, site_server):
    world = committed
    console_host, site_host = f"shangcheng.localhost:{site_server}", f"{SLUG}.shangcheng.localhost:{site_server}"
    console, site = f"http://{console_host}", f"http://{site_host}"
    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        notices = editor_and_moderator(world, xingfu)
        requested = []
        with chromium() as page:
            page.on("request", lambda request: requested.append(request.url))
            sign_in_to_the_editor(page, console, EDITOR)
            page.goto(f"{console}/cms-admin/pages/add/cms/articlepage/{notices}/")
            expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
            page.fill("#id_title", NOTICE_TITLE)
            # The body: a text block from the stream's block menu, typed into Draftail.
            page.locator("button.c-sf-add-button").first.click()
            page.get_by_role("option", name="正文").click()
            editor = page.locator("[data-contentpath=body] .public-DraftEditor-content")
            expect(editor).to_have_count(1)
            editor.click()
            page.keyboard.type(NOTICE_TEXT)
            expect(editor).to_have_text(NOTICE_TEXT)
            page.get_by_role("tab", name="推荐").click()  # the slug is on the promote tab
            page.fill("input[name=slug]", NOTICE_SLUG)
            page.get_by_role("tab", name="内容").click()
            page.screenshot(path=str(SHOTS / "community-site-editor-notice-form.png"), full_page=True)
            # Editors cannot publish: the primary button saves a draft; moderation is in the dropdown.
            expect(page.locator("footer button[name=action-publish]")).to_have_count(0)
            page.locator("footer .w-dropdown__toggle").click()
            submit = page.locator("footer button[name=action-submit]")
            expect(submit).to_have_text("提交给幸福社区：审核流程")
            submit.click()
            page.wait_for_url(f"{console}/cms-admin/pages/{notices}/")
            expect(page.locator(".messages")).to_contain_text(NOTICE_TITLE)
            expect(page.locator(".messages")).to_contain_text("提交审核")
            expect(page.get_by_role("row").filter(has_text=NOTICE_TITLE)).to_contain_text("审核中")
            assert page.problems == []

        with tenant_context(world.shangcheng):
            notice = ArticlePage.objects.get(title=NOTICE_TITLE)
            assert not notice.live and notice.slug == NOTICE_SLUG  # submitted, not published
            assert notice.get_parent().pk == notices
            assert notice.current_workflow_state.status == "in_progress"
            assert NOTICE_TEXT in str(notice.get_latest_revision_as_object().body)

        with chromium() as page:
            page.on("request", lambda request: requested.append(request.url))
            page.goto(f"{site}/notices/")  # not on the site yet
            expect(page.locator("main")).not_to_contain_text(NOTICE_TITLE)
            sign_in_to_the_editor(page, console, MODERATOR)
            review = page.locator("#awaiting-review-content tr").filter(has_text=NOTICE_TITLE)
            expect(review).to_contain_text("社区编辑")  # submitted by: the editor, by full name
            page.screenshot(path=str(SHOTS / "community-site-moderator-review.png"), full_page=True)
            review.locator(".w-dropdown__toggle").click()
            with page.expect_navigation(url=f"{console}/cms-admin/"):  # approve, no comment: back here
                review.get_by_role("button", name="批准", exact=True).click()
            expect(page.locator("#awaiting-review-content tr").filter(has_text=NOTICE_TITLE)).to_have_count(0)
            assert page.problems == []

        with chromium(viewport=PHONE, mobile=True) as page:  # a resident, on a phone
            page.on("request", lambda request: requested.append(request.url))
            page.goto(f"{site}/")
            latest = page.locator("main .card a", has_text=NOTICE_TITLE)
            expect(latest).to_have_attribute("href", f"/notices/{NOTICE_SLUG}/")
            page.locator(".site-nav a[href='/notices/']").tap()
            page.wait_for_url(f"{site}/notices/")
            page.locator("main a", has_text=NOTICE_TITLE).tap()
            page.wait_for_url(f"{site}/notices/{NOTICE_SLUG}/")
            expect(page.locator("h1")).to_have_text(NOTICE_TITLE)
            expect(page.locator("main")).to_contain_text(NOTICE_TEXT)
            fits_the_phone(page)
            page.screenshot(path=str(SHOTS / "community-site-notice-phone.png"), full_page=True)
            assert page.problems == []
        assert [url for url in foreign_requests(requested, console_host) if urlsplit(url).netloc != site_host] == []

        with tenant_context(world.shangcheng):
            notice = ArticlePage.objects.get(pk=notice.pk)
            assert notice.live and notice.current_workflow_state is None
            assert notice.live_revision.approved_go_live_at is None and notice.owner.username == EDITOR
    finally:
        discard_users(world, EDITOR, MODERATOR)
