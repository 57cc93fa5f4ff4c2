"""A grid worker reports a case from a phone (375 × 812) with a photo and the phone's
location, finds it in their list; an operator at a desk accepts and dispatches it; the
department's handler, on a phone too, starts it and reports it handled with a photo.
Live daphne, real Chromium; screenshots land in SHOTS for a person to look at."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django_tenants.utils import tenant_context
from PIL import Image, ImageDraw

from civicgrid.platform.accounts.actions import create_staff_member
from civicgrid.platform.accounts.models import User
from civicgrid.platform.accounts.staff.models import StaffProfile, StaffRole
from civicgrid.platform.cases.models import Attachment, Case, Status
from civicgrid.platform.cases.tasks import make_thumbnails
from civicgrid.platform.org.models import Department
from tests.browser.conftest import sign_in as browser_sign_in
from tests.world import PASSWORD

pytestmark = pytest.mark.slow
expect = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (pip install playwright)").expect

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"  # the user guides show them
PHONE = {"width": 375, "height": 812}
SPOT = {"latitude": 30.2451, "longitude": 120.1752}  # inside shangcheng's T01-C01-G01
TITLE = "楼道堆放杂物堵塞消防通道"
HANDLER = "browser_jus_handler"


def photo_jpeg() -> bytes:
    image = Image.new("RGB", (640, 480), (90, 120, 150))
    draw = ImageDraw.Draw(image)
    draw.rectangle((120, 200, 520, 420), fill=(160, 110, 60))
    draw.ellipse((260, 60, 380, 180), fill=(240, 200, 40))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def sign_in(page, base, username):
    browser_sign_in(page, base, username, PASSWORD)


def discard_cases(world, title):
    with tenant_context(world.shangcheng):
        for case in Case.objects.filter(title=title):
            for item in Attachment.objects.filter(case=case):
                for name in filter(None, (item.file, item.thumbnail)):
                    default_storage.delete(name)
            case.delete()  # its timeline, files, notifications go with it


def handler_of(world, code):
    with tenant_context(world.shangcheng):
        discard_user(world, HANDLER)
        create_staff_member(username=HANDLER, password=PASSWORD, role=StaffRole.DEPARTMENT_HANDLER,
                            scope_department=Department.objects.get(code=code), acting_user=None)


def discard_user(world, username):
    with tenant_context(world.shangcheng):
        StaffProfile.objects.filter(user__username=username).delete()
        User.objects.filter(username=username).delete()


def test_a_grid_worker_reports_from_a_phone_and_an_operator_dispatches(chromium, committed, asgi_server):
    world = committed
    base = f"http://shangcheng.localhost:{asgi_server}"
    SHOTS.mkdir(parents=True, exist_ok=True)
    discard_cases(world, TITLE)
    handler_of(world, "D-JUS")
    try:
        with chromium() as page:
            page.set_viewport_size(PHONE)
            page.context.grant_permissions(["geolocation"], origin=base)
            page.context.set_geolocation(SPOT)
            sign_in(page, base, "shangcheng_gridworker")
            page.goto(f"{base}/cases/new/")
            expect(page.locator("html")).to_have_attribute("lang", "zh-hans")

            page.select_option("#id_category", "DSP-NEIGHBOUR")
            page.fill("#id_title", TITLE)
            page.fill("#id_description", "三楼楼道堆满纸箱和旧家具，住户反映影响通行")
            page.click("[data-locate]")
            expect(page.locator("#id_latitude")).to_have_value("30.245100")
            expect(page.locator("#id_longitude")).to_have_value("120.175200")
            page.fill("#id_address", "解放路1号3幢")
            page.set_input_files("#id_photos", files=[
                {"name": "现场.jpg", "mimeType": "image/jpeg", "buffer": photo_jpeg()}])
            expect(page.locator("[data-previews] img")).to_have_count(1)
            # Nothing may stick out sideways on a phone.
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
            page.screenshot(path=str(SHOTS / "console-report-phone.png"), full_page=True)

            page.click("button.case-submit")
            page.wait_for_url(re.compile(r"/cases/\d+/$"))
            expect(page.locator("h1")).to_have_text(TITLE)
            expect(page.locator("[data-status]")).to_have_attribute("data-status", "reported")
            expect(page.locator(".light")).to_be_visible()
            thumbnail = page.locator(".case-photos img")
            expect(thumbnail).to_have_count(1)
            page.wait_for_function("() => document.querySelector('.case-photos img').naturalWidth > 0")
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
            expect(page.locator("[data-action]")).to_have_count(0)  # a grid worker reports; others act
            page.screenshot(path=str(SHOTS / "console-case-phone.png"), full_page=True)
            number = page.locator(".case-number-tag").inner_text()

            page.goto(f"{base}/cases/?mine=on")
            row = page.locator(f"tr[data-case='{number}']")
            expect(row).to_be_visible()
            expect(row).to_contain_text(TITLE)
            expect(row.locator(".badge")).to_have_class("badge status-reported")
            page.screenshot(path=str(SHOTS / "console-list-phone.png"), full_page=True)
            assert page.problems == []

        with chromium() as page:
            sign_in(page, base, "shangcheng_operator")
            page.goto(f"{base}/cases/?q={number}")
            page.screenshot(path=str(SHOTS / "console-list.png"), full_page=True)
            page.click(f"tr[data-case='{number}'] .case-number a")
            page.wait_for_url(re.compile(r"/cases/\d+/$"))
            accept = page.locator("#action-accept")
            expect(accept).to_have_attribute("open", "")
            accept.locator("button[type=submit]").click()
            expect(page.locator("[data-status]")).to_have_attribute("data-status", "accepted")

            dispatch = page.locator("#action-dispatch")
            if dispatch.get_attribute("open") is None:
                dispatch.locator("summary").click()
            dispatch.locator("select[name=department]").select_option("D-JUS")
            dispatch.locator("textarea[name=comment]").fill("请三日内清理")
            dispatch.locator("button[type=submit]").click()
            expect(page.locator("[data-status]")).to_have_attribute("data-status", "dispatched")
            expect(page.locator(".case-timeline li")).to_have_count(3)
            expect(page.locator(".case-timeline")).to_contain_text("请三日内清理")
            page.screenshot(path=str(SHOTS / "console-case.png"), full_page=True)
            assert page.problems == []

        with chromium() as page:
            page.set_viewport_size(PHONE)
            sign_in(page, base, HANDLER)
            page.goto(f"{base}/cases/")
            page.click(f"tr[data-case='{number}'] .case-title-cell a")
            page.wait_for_url(re.compile(r"/cases/\d+/$"))
            start = page.locator("#action-start")
            expect(start).to_have_attribute("open", "")
            start.locator("button[type=submit]").click()
            expect(page.locator("[data-status]")).to_have_attribute("data-status", "in_progress")
            handle = page.locator("#action-handle")
            expect(handle).to_have_attribute("open", "")
            handle.locator("textarea[name=result]").fill("已联系物业清理楼道杂物，消防通道恢复畅通")
            handle.locator("input[name=photos]").set_input_files(files=[
                {"name": "清理后.jpg", "mimeType": "image/jpeg", "buffer": photo_jpeg()}])
            handle.scroll_into_view_if_needed()
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
            page.screenshot(path=str(SHOTS / "console-handle-phone.png"), full_page=True)
            handle.locator("button[type=submit]").click()
            expect(page.locator("[data-status]")).to_have_attribute("data-status", "handled")
            expect(page.locator(".case-photos img")).to_have_count(2)
            assert page.problems == []

        with tenant_context(world.shangcheng):
            case = Case.objects.select_related("department", "grid").get(number=number)
            assert (case.status, case.department.code, case.grid.code) == (Status.HANDLED, "D-JUS", "T01-C01-G01")
            assert (case.latitude, case.longitude) == (SPOT["latitude"], SPOT["longitude"])
            assert case.result.startswith("已联系物业")
            photos = list(case.attachments.select_related("event").order_by("pk"))
            assert [p.event.action for p in photos] == ["report", "handle"]
            assert all(p.kind == "image" for p in photos)
            make_thumbnails.run([p.pk for p in photos])  # the worker's job after each commit (if none ran yet)
            assert all(p.thumbnail for p in case.attachments.all())
            assert list(case.events.values_list("action", flat=True)) == [
                "report", "accept", "dispatch", "start", "handle"]

        # The command centre closes it after the revisit.
        with chromium() as page:
            sign_in(page, base, "shangcheng_operator")
            page.goto(f"{base}/cases/{case.pk}/")
            close = page.locator("#action-close")
            if close.get_attribute("open") is None:
                close.locator("summary").click()
            expect(close.locator("form")).to_be_visible()
            page.screenshot(path=str(SHOTS / "console-close-dialog.png"), full_page=False)
            close.locator("button[type=submit]").click()
            expect(page.locator("[data-status]")).to_have_attribute("data-status", "closed")
            assert page.problems == []
        with tenant_context(world.shangcheng):
            assert Case.objects.get(pk=case.pk).status == Status.CLOSED
    finally:
        discard_cases(world, TITLE)
        discard_user(world, HANDLER)
