"""The provincial admin onboards a county in a real browser: sign in, fill the form,
watch the job page's progress bar (live daphne, live Celery worker) until it is done."""

import re

import pytest

from civicgrid.tenants.models import Domain, OnboardingJob, Tenant
from tests.browser.conftest import sign_in as browser_sign_in
from tests.world import PASSWORD, discard_tenant

pytestmark = pytest.mark.slow
expect = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (pip install playwright)").expect

JOB_TIMEOUT = 90_000  # ms: the worker clones the template schema


def sign_in(page, base):
    browser_sign_in(page, base, "prov_admin", PASSWORD)
    page.goto(f"{base}/province/")
    expect(page.locator("form.stacked #id_division_code")).to_be_visible()


def fill_onboarding(page, *, name, code, domain, password="linping-admin-pw"):
    page.fill("#id_name", name)
    page.fill("#id_division_code", code)
    page.select_option("#id_level", "county")
    page.select_option("#id_parent_code", "330100")
    page.fill("#id_domain", domain)
    page.fill("#id_admin_password", password)
    page.click("form.stacked button[type=submit]")


def test_provincial_admin_onboards_a_county_and_watches_it_finish(chromium, committed, asgi_server, celery_worker):
    base = f"http://localhost:{asgi_server}"
    discard_tenant("330113")  # a leftover from an interrupted run would refuse the form
    try:
        with chromium() as page:
            sign_in(page, base)
            fill_onboarding(page, name="临平区", code="330113", domain="linping.localhost")
            page.wait_for_url(re.compile(r"/province/onboarding/[0-9a-f-]{36}/$"))
            expect(page.locator("h1")).to_contain_text("临平区")

            status = page.locator("[data-status]")
            expect(status).to_have_class(re.compile(r"\b(succeeded|failed)\b"), timeout=JOB_TIMEOUT)
            assert "succeeded" in status.get_attribute("class").split(), (
                f"the job ended {status.inner_text()!r}: {page.locator('[data-error]').inner_text()!r}")
            expect(status).to_have_class("badge succeeded")
            expect(page.locator(".progress > div")).to_have_attribute("style", re.compile(r"width:\s*100%"))
            link = page.locator("[data-tenant-link]")
            expect(link).to_be_visible()
            expect(link).to_have_attribute("href", f"http://linping.localhost:{asgi_server}/")
            expect(link).to_have_text(f"http://linping.localhost:{asgi_server}/")
            expect(page.locator("[data-error]")).to_have_text("")
            # The bar's width animates (.3s); let it reach the end before the picture.
            page.wait_for_function("""() => {
                const bar = document.querySelector('.progress > div');
                return bar.getBoundingClientRect().width >= bar.parentElement.getBoundingClientRect().width - 1;
            }""")
            page.screenshot(path="/tmp/onboarding.png", full_page=True)

            page.click("main > p > a[href='/province/']")
            page.wait_for_url(f"{base}/province/")
            tenants, jobs = page.locator("main table").nth(0), page.locator("main table").nth(1)
            row = tenants.locator("tbody tr").filter(has=page.locator("td", has_text=re.compile(r"^330113$")))
            expect(row).to_have_count(1)
            expect(row).to_contain_text("临平区")
            expect(row.locator(".badge")).to_have_class("badge active")
            expect(row.locator("a")).to_have_text("linping.localhost")
            job_row = jobs.locator("tr").filter(has=page.locator("a", has_text="临平区")).first
            expect(job_row.locator(".badge")).to_have_class("badge succeeded")
            page.screenshot(path="/tmp/dashboard.png", full_page=True)
            assert page.problems == []

        tenant = Tenant.objects.get(division_code="330113")
        assert tenant.status == Tenant.Status.ACTIVE
        assert tenant.name == "临平区" and tenant.parent.division_code == "330100"
        assert tenant.primary_domain == "linping.localhost"
        assert OnboardingJob.objects.get(tenant=tenant).status == OnboardingJob.Status.SUCCEEDED
    finally:
        discard_tenant("330113")


def test_a_taken_domain_is_shown_on_the_form_and_nothing_is_created(chromium, committed, asgi_server):
    base = f"http://localhost:{asgi_server}"
    before = (Tenant.objects.count(), Domain.objects.count(), OnboardingJob.objects.count())
    try:
        with chromium() as page:
            sign_in(page, base)
            fill_onboarding(page, name="钱塘区", code="330114", domain="shangcheng.localhost")
            page.wait_for_load_state()
            expect(page).to_have_url(f"{base}/province/")
            error = page.locator("form.stacked ul.errorlist").filter(has_text="shangcheng.localhost")
            expect(error).to_be_visible()
            expect(page.locator("#id_domain")).to_have_attribute("aria-invalid", "true")
            # What was typed is kept, except the password.
            expect(page.locator("#id_name")).to_have_value("钱塘区")
            expect(page.locator("#id_domain")).to_have_value("shangcheng.localhost")
            expect(page.locator("#id_admin_password")).to_have_value("")
            assert page.problems == []

        assert (Tenant.objects.count(), Domain.objects.count(), OnboardingJob.objects.count()) == before
        assert not Tenant.objects.filter(division_code="330114").exists()
        assert Domain.objects.get(domain="shangcheng.localhost").tenant.division_code == "330102"
    finally:
        discard_tenant("330114")
