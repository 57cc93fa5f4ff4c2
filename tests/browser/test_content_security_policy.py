"""The Content-Security-Policy holds in a real browser: Chromium opens the main pages of every
site (the province portal and dashboard, the console's home, case page, map and dashboard,
平安通, the API token page, a community site, the reporter's follow page, Wagtail's admin and
its page editor) and the test fails on any violation the browser reports, as a
securitypolicyviolation event or on the console, and on any script error."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from civicgrid.cms import actions as cms_actions
from civicgrid.platform.cases.models import Case
from tests.browser.conftest import sign_in
from tests.browser.test_community_sites import SLUG, discard_case, xingfu  # noqa: F401 (a fixture)
from tests.platform.cases.test_workflow import report
from tests.world import PASSWORD

pytestmark = pytest.mark.slow

# Runs in every page before its own scripts: the browser's own record of each violation.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI || "inline"} `
    + `at ${event.sourceFile || document.location.href}:${event.lineNumber}`);
});
"""


def watch(page) -> list[str]:
    found: list[str] = []
    page.add_init_script(RECORD_VIOLATIONS)
    page.on("console", lambda message: (
        "Content Security Policy" in message.text or "Refused to" in message.text) and found.append(
        f"console: {message.text}"))
    return found


def visit(page, url: str, found: list[str], *, settle: str = "networkidle") -> None:
    response = page.goto(url)
    assert response is not None and response.status == 200, (url, response and response.status)
    assert "Content-Security-Policy" in {name.title() for name in response.headers} or \
        "content-security-policy" in response.headers, url
    page.wait_for_load_state(settle)
    page.wait_for_timeout(300)  # a map's tiles and a socket's first message
    found.extend(f"{url}: {v}" for v in page.evaluate("window.__cspViolations || []"))


@pytest.fixture
def a_case(committed):
    with tenant_context(committed.shangcheng):
        case = report(title="CSP 检查用的事件")
    yield case
    with tenant_context(committed.shangcheng):
        discard_case(Case.objects.get(pk=case.pk))


def test_the_console_and_province_pages_run_without_a_violation(chromium, committed, asgi_server, a_case):
    county = f"http://shangcheng.localhost:{asgi_server}"
    province = f"http://localhost:{asgi_server}"
    with chromium() as page:
        found = watch(page)
        visit(page, f"{province}/", found)
        sign_in(page, province, "prov_admin", PASSWORD)
        visit(page, f"{province}/province/", found)
        visit(page, f"{province}/province/supervision/", found)
        sign_in(page, county, "shangcheng_admin", PASSWORD)
        for path in ("/", f"/cases/{a_case.pk}/", "/cases/", "/map/", "/dashboard/", "/registry/persons/",
                     "/api-tokens/", "/assessment/"):
            visit(page, county + path, found)
        visit(page, f"{county}/r/{a_case.token}/", found)
        assert page.problems == [], page.problems
        assert found == [], "\n".join(found)
        # The watch sees: an inline script slipped into the page is refused and reported.
        page.evaluate("""() => { const s = document.createElement("script");
                                 s.textContent = "window.__ran = true"; document.body.appendChild(s); }""")
        page.wait_for_timeout(300)
        assert page.evaluate("window.__ran === undefined")
        assert any("script-src" in v for v in page.evaluate("window.__cspViolations"))


def test_the_phone_app_runs_without_a_violation(chromium, committed, asgi_server):
    county = f"http://shangcheng.localhost:{asgi_server}"
    with chromium(mobile=True, viewport={"width": 375, "height": 812}) as page:
        found = watch(page)
        sign_in(page, county, "shangcheng_gridworker", PASSWORD, next_path="/m/")
        for path in ("/m/", "/m/report/", "/m/tasks/"):
            visit(page, county + path, found)
        assert page.problems == [], page.problems
    assert found == [], "\n".join(found)


def test_a_community_site_and_the_wagtail_admin_run_without_a_violation(chromium, committed, asgi_server,
                                                                        xingfu):  # noqa: F811
    with tenant_context(committed.shangcheng):
        cms_actions.sync_site_groups()
        notices = xingfu.site.root_page.get_children().get(slug="notices").pk
    county = f"http://shangcheng.localhost:{asgi_server}"
    community = f"http://{SLUG}.shangcheng.localhost:{asgi_server}"
    with chromium() as page:
        found = watch(page)
        for path in ("/", "/report/", "/phone/?next=/report/"):
            visit(page, community + path, found)
        sign_in(page, county, "shangcheng_admin", PASSWORD)
        # The admin's own inline scripts (date pickers, inline panels) are allowed there only.
        for path in ("/cms-admin/", f"/cms-admin/pages/{notices}/", f"/cms-admin/pages/add/cms/articlepage/{notices}/"):
            visit(page, county + path, found)
        assert page.problems == [], page.problems
    assert found == [], "\n".join(found)
