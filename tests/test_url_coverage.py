"""Every URL must name the test that proves the wrong tenant and the wrong role get
nothing from it. A new view without one fails here.

Routes are listed below, or in any test module as ``ROUTES_COVERED = {"route-name":
"test_function_in_that_module"}``, beside the tests themselves."""

import importlib
import pkgutil
import re

import pytest
from django.urls import get_resolver
from rest_framework.views import APIView

import tests
from civicgrid.platform.api.permissions import DenyAll

ISOLATION = "tests.tenants.test_http_isolation"
SOCKETS = "tests.platform.test_websockets"

ACCESS_TESTS = {
    "portal": f"{ISOLATION}::test_unknown_host_is_not_found",
    "dashboard": f"{ISOLATION}::test_province_dashboard_is_for_the_provincial_admin",
    "job": f"{ISOLATION}::test_onboarding_job_pages_are_for_the_provincial_admin",
    "job-progress": f"{ISOLATION}::test_onboarding_job_pages_are_for_the_provincial_admin",
    "suspend": f"{ISOLATION}::test_only_the_provincial_admin_suspends",
    "resume": f"{ISOLATION}::test_suspended_tenant_answers_with_a_notice_and_resumes",
    "login": f"{ISOLATION}::test_sign_in_only_on_your_own_tenant",
    "logout": f"{ISOLATION}::test_sign_in_only_on_your_own_tenant",
    "set_language": f"{ISOLATION}::test_pages_are_chinese_by_default_and_english_on_request",
    "api-health": f"{ISOLATION}::test_each_host_serves_its_own_tenant",
    "api-tenants": f"{ISOLATION}::test_province_dashboard_is_for_the_provincial_admin",
    "api-onboarding-job": f"{ISOLATION}::test_onboarding_job_pages_are_for_the_provincial_admin",
    "api-schema": f"{ISOLATION}::test_api_schema_is_served_on_every_site",
    "console-home": f"{ISOLATION}::test_staff_see_their_console_and_not_another_tenants",
    "api-me": f"{ISOLATION}::test_staff_see_their_console_and_not_another_tenants",
    "websocket:notifications": f"{SOCKETS}::test_others_are_closed_without_a_word",
}


def collected_access_tests() -> dict[str, str]:
    found = dict(ACCESS_TESTS)
    for module_info in pkgutil.walk_packages(tests.__path__, "tests."):
        if not module_info.name.rsplit(".", 1)[-1].startswith("test_"):
            continue
        module = importlib.import_module(module_info.name)
        for route, function in getattr(module, "ROUTES_COVERED", {}).items():
            found[route] = f"{module_info.name}::{function}"
    return found


# Wagtail's admin is one route here: a middleware admits only the tenant's members in a CMS
# role to everything under its prefix, and Wagtail's permissions decide within it.
WAGTAIL_ADMIN_PREFIX = "cms-admin/"


def walk(patterns, prefix=""):
    for pattern in patterns:
        if hasattr(pattern, "url_patterns"):
            yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix, pattern


# A plugin's routes are named as they are reversed, "<plugin_id>:<name>" and
# "api-<plugin_id>:<name>": two plugins may both have an "inspection-list".
PLUGIN_PREFIX = re.compile(r"^(?P<api>api/v1/)?p/(?P<plugin>[a-z0-9_]+)/")


def route_name(prefix: str, name: str | None) -> str | None:
    found = PLUGIN_PREFIX.match(prefix)
    if found is None or not name:
        return name
    return f"{'api-' if found['api'] else ''}{found['plugin']}:{name}"


def all_routes():
    from civicgrid.platform.notifications.routing import websocket_urlpatterns

    for conf in ("civicgrid.config.urls_public", "civicgrid.config.urls_tenant", "civicgrid.config.urls_site"):
        for prefix, pattern in walk(get_resolver(conf).url_patterns):
            if prefix.startswith(WAGTAIL_ADMIN_PREFIX):
                yield "wagtail-admin", pattern.callback
            else:
                yield route_name(prefix, pattern.name), pattern.callback
    for pattern in websocket_urlpatterns:
        yield "websocket:notifications", pattern.callback


@pytest.mark.parametrize("name, callback", list(all_routes()))
def test_every_route_names_its_access_test(name, callback):
    access_tests = collected_access_tests()
    assert name, f"every route needs a name ({callback})"
    assert name in access_tests, f"route {name!r} has no wrong-tenant / wrong-role test listed"
    module, function = access_tests[name].split("::")
    assert callable(getattr(importlib.import_module(module), function, None)), access_tests[name]


@pytest.mark.parametrize("name, callback", list(all_routes()))
def test_every_api_view_declares_its_permissions(name, callback):
    view = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    if view is None or not issubclass(view, APIView):
        return
    declared = view.permission_classes
    assert declared and DenyAll not in declared, f"{name}: declare permission_classes explicitly"
