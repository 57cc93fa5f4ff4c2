"""The REST API under generated requests, as every role and as nobody: valid and invalid
cases for each operation of the tenant's OpenAPI schema (drf-spectacular's own), with
real ids in the paths half the time. No answer is a 5xx; every 4xx is DRF's error body
(``{"detail": …}`` or field errors) in JSON, and in Chinese where the catalog has the
message (the requests ask for zh-hans). Everything runs in the test's transaction:
what the fuzz creates, changes or deletes is rolled back with it."""

from __future__ import annotations

import json
import re

import pytest
import schemathesis
from django.db import connection
from django_tenants.utils import tenant_context

from civicgrid.platform.accounts.staff.models import StaffProfile
from civicgrid.platform.cases import actions
from civicgrid.platform.cases.models import Case, Category, RoutingRule
from civicgrid.platform.notifications.models import Notification
from civicgrid.platform.registry import models as registry
from civicgrid.plugins import actions as plugins
from tests.fuzz.conftest import BASE_URL, ROLES, credentials
from tests.fuzz.harness import (
    chinese_catalog,
    english_leaks,
    fuzz,
    is_drf_error,
    json_body,
    messages_in,
    send,
    without_generated_credentials,
)
from tests.platform.registry.api.conftest import _build as build_registry

pytestmark = [pytest.mark.fuzz]

# Per operation and mode; each case is sent by all eight callers: ~110 operations, ~4,600 requests,
# 35 s to 2.5 min on two cores depending on what else runs (generating the cases is most of it).
EXAMPLES = 3
PLUGINS = ("fire_safety", "food_safety", "school_surroundings")


@pytest.fixture(scope="session")
def tenant_api_schema():
    """The schema a tenant serves at api-schema, built as that view builds it."""
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    generator = SchemaGenerator(urlconf="civicgrid.config.urls_tenant")
    document = json.loads(OpenApiJsonRenderer().render(generator.get_schema(request=None, public=True)))
    return without_generated_credentials(schemathesis.openapi.from_dict(document))


@pytest.fixture
def shangcheng(world):
    """Registry records, the modules switched on, and cases in a few states."""
    build_registry(world)
    for plugin_id in PLUGINS:
        plugins.publish_plugin(plugin_id=plugin_id, published=True, acting_user=None)
        plugins.enable_plugin(tenant=world.shangcheng, plugin_id=plugin_id, acting_user=None)
    with tenant_context(world.shangcheng):
        worker = StaffProfile.objects.get(user__username="shangcheng_gridworker")
        operator = StaffProfile.objects.get(user__username="shangcheng_operator")
        for title in ("楼道堆物", "噪音扰民", "井盖破损"):
            actions.report_case(staff=worker, category="DSP-NEIGHBOUR", title=title, latitude=30.245,
                                longitude=120.175)
        first = Case.objects.order_by("pk").first()
        actions.accept_case(staff=operator, case_id=first.pk)
        actions.dispatch_case(staff=operator, case_id=first.pk, department="D-PSB")
    yield world
    for plugin_id in PLUGINS:  # the tenant object outlives the rolled-back transaction
        plugins.disable_plugin(tenant=world.shangcheng, plugin_id=plugin_id, acting_user=None)


# path pattern → {parameter: how to find real values in shangcheng}
REGISTRY_MODELS = {"persons": registry.Person, "households": registry.Household, "buildings": registry.Building,
                   "houses": registry.House, "places": registry.Place, "organisations": registry.Organisation,
                   "things": registry.Thing, "care-records": registry.CareRecord}


def real_values(path: str) -> dict[str, list]:
    def pks(model):
        return list(model.objects.order_by("pk").values_list("pk", flat=True)[:5])

    if path.startswith("/api/v1/cases/"):
        return {"id": pks(Case)}
    if path.startswith("/api/v1/categories/"):
        return {"code": list(Category.objects.order_by("code").values_list("code", flat=True)[:5])}
    if path.startswith("/api/v1/routing-rules/"):
        return {"id": pks(RoutingRule)}
    if path.startswith("/api/v1/notifications/"):
        return {"id": pks(Notification)}
    if path.startswith("/api/v1/org/units/"):
        return {"code": ["T01", "T01-C01", "T01-C01-G01", "T02-C02-G02"]}
    if path.startswith("/api/v1/calendar-overrides/"):
        return {"day": ["2026-10-01", "2026-10-11"]}
    if path.startswith("/api/v1/registry/care-kinds/"):
        return {"code": ["dibao", "released"]}
    found = re.match(r"/api/v1/registry/([a-z-]+)/", path)
    if found and found[1] in REGISTRY_MODELS:
        return {"id": pks(REGISTRY_MODELS[found[1]]), "fmt": ["csv", "xlsx"]}
    return {}


def known_values(world):
    def values(path):
        with tenant_context(world.shangcheng):
            return real_values(path)

    return values


def api_check(app, headers, catalog):
    def check(case):
        sent = send(case, app, base_url=BASE_URL, headers=headers)
        connection.set_schema_to_public()
        assert sent.status < 500, f"a server error\n{sent.describe()}"
        if sent.status >= 400:
            body = json_body(sent)
            assert is_drf_error(body), f"not DRF's error format\n{sent.describe()}"
            leaks = english_leaks(messages_in(body), catalog)
            assert not leaks, f"English although the catalog has it in Chinese: {leaks}\n{sent.describe()}"
        return sent

    return check


def test_no_operation_fails_or_answers_out_of_format_for_any_role(shangcheng, app, media, tenant_api_schema):
    catalog = chinese_catalog()
    callers = {role: api_check(app, credentials(shangcheng, role), catalog) for role in ROLES}
    findings = fuzz(tenant_api_schema, callers=callers, examples=EXAMPLES, known_values=known_values(shangcheng))
    print(f"{findings.cases} cases × {len(callers)} callers, statuses {sorted(findings.statuses.items())}")
    assert findings.statuses.get(200, 0) + findings.statuses.get(201, 0) > findings.cases // 4  # it got past 4xx
    assert not findings.failures, findings.report()
