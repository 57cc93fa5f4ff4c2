"""API tokens: issued by the county admin (page and command), shown once, kept as a hash;
a token acts as its staff account within its scopes, and an expired, revoked or another
county's token gets 401 and changes nothing. Every issue and revoke is audited."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context

from civicgrid.platform.api.tokens import actions
from civicgrid.platform.api.tokens.models import ApiToken
from civicgrid.platform.audit.models import AuditEntry
from civicgrid.platform.cases.models import Case
from tests.platform.cases.test_workflow import IN_G01

ROUTES_COVERED = {
    "api-tokens": "test_only_the_county_admin_reaches_the_token_page",
    "api-token-revoke": "test_only_the_county_admin_reaches_the_token_page",
}

SHANGCHENG, YUHANG = "shangcheng.localhost", "yuhang.localhost"
REPORT = {"category": "DSP-NEIGHBOUR", "source": "hotline_12345", "title": "令牌上报的纠纷", "description": "集成系统转来的诉求",
          "latitude": IN_G01["latitude"], "longitude": IN_G01["longitude"]}


def issue(world, *scopes, user="shangcheng_operator", days=30, tenant=None) -> tuple[ApiToken, str]:
    with tenant_context(tenant or world.shangcheng):
        return actions.create_token(label="12345热线", scopes=list(scopes), acts_as=world.user(user),
                                    expires_at=timezone.now() + timedelta(days=days), acting_user=None)


def bearer(token: str, host: str = SHANGCHENG) -> Client:
    return Client(HTTP_HOST=host, HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_ACCEPT_LANGUAGE="en",
                  enforce_csrf_checks=True)


def cases_count(world) -> int:
    with tenant_context(world.shangcheng):
        return Case.objects.count()


def test_a_token_acts_as_its_account_within_its_scopes(world):
    row, token = issue(world, "cases:read", "cases:write")
    http = bearer(token)
    me = http.get("/api/v1/me/")
    assert me.status_code == 200 and me.json()["username"] == "shangcheng_operator"
    assert http.get("/api/v1/cases/").status_code == 200
    before = cases_count(world)
    # No CSRF token and no cookie: a bearer token is not something a browser sends by itself.
    made = http.post("/api/v1/cases/", REPORT, content_type="application/json")
    assert made.status_code == 201, made.content
    assert cases_count(world) == before + 1
    with tenant_context(world.shangcheng):
        row.refresh_from_db()
        assert row.last_used_at is not None
        assert len(row.token_hash) == 64 and token not in row.token_hash and row.prefix == token[:12]


def test_a_missing_or_undeclared_scope_is_refused_and_changes_nothing(world):
    _row, token = issue(world, "cases:read")
    http = bearer(token)
    before = cases_count(world)
    refused = http.post("/api/v1/cases/", REPORT, content_type="application/json")
    assert refused.status_code == 403 and "cases:write" in refused.json()["detail"]
    assert cases_count(world) == before
    assert http.get("/api/v1/registry/persons/").status_code == 403  # registry:read not granted
    assert http.get("/api/v1/org/units/").status_code == 403
    # A view that declares no scope is closed to every token (deny by default): the modules'.
    from civicgrid.platform.api.tokens.scopes import required_scope
    from civicgrid.plugins.builtin.fire_safety.api import ModuleView

    assert required_scope(ModuleView(), "GET") is None  # (the framework declares its scope when mounted)
    refused = bearer(token).get("/api/v1/case-categories/")
    assert refused.status_code == 200  # declared (cases:read) …
    from civicgrid.platform.api.cases import CategoryTreeView

    original = CategoryTreeView.token_scope
    CategoryTreeView.token_scope = None  # … and the same view with nothing declared
    try:
        refused = bearer(token).get("/api/v1/case-categories/")
    finally:
        CategoryTreeView.token_scope = original
    assert refused.status_code == 403 and "does not accept API tokens" in refused.json()["detail"]


@pytest.mark.parametrize("problem", ["expired", "revoked", "other_county", "garbage", "malformed"])
def test_bad_tokens_get_401_and_change_nothing(world, problem):
    row, token = issue(world, "cases:read", "cases:write")
    host = SHANGCHENG
    with tenant_context(world.shangcheng):
        if problem == "expired":
            ApiToken.objects.filter(pk=row.pk).update(created_at=timezone.now() - timedelta(days=40),
                                                      expires_at=timezone.now() - timedelta(seconds=1))
        elif problem == "revoked":
            actions.revoke_token(token_id=row.pk, acting_user=None)
    if problem == "other_county":
        host = YUHANG
    elif problem == "garbage":
        token = "cgt_" + "x" * 43
    http = bearer(token, host)
    if problem == "malformed":
        http = Client(HTTP_HOST=host, HTTP_AUTHORIZATION=f"Bearer {token} extra", HTTP_ACCEPT_LANGUAGE="en")
    before = cases_count(world)
    for response in (http.get("/api/v1/me/"),
                     http.post("/api/v1/cases/", REPORT, content_type="application/json")):
        assert response.status_code == 401, (problem, response.content)
        assert response["WWW-Authenticate"].startswith("Bearer")
        assert set(response.json()) == {"detail"}
    assert cases_count(world) == before
    # On the province's host there are no tokens at all.
    assert bearer(token, "localhost").get("/api/v1/tenants/").status_code == 401


def test_the_refusal_speaks_the_callers_language(world):
    from django.utils import translation

    message = "The token is not valid here, has expired or was revoked."
    for language in ("zh-hans", "en"):
        response = Client(HTTP_HOST=SHANGCHENG, HTTP_AUTHORIZATION="Bearer cgt_nothing",
                          HTTP_ACCEPT_LANGUAGE=language).get("/api/v1/me/")
        assert response.status_code == 401 and response["Content-Language"] == language
        with translation.override(language):
            assert response.json()["detail"] == translation.gettext(message)


def test_a_token_stops_when_its_account_leaves(world):
    from civicgrid.platform.accounts.staff.models import StaffProfile

    _row, token = issue(world, "cases:read", user="shangcheng_gridworker")
    with tenant_context(world.shangcheng):
        StaffProfile.objects.filter(user__username="shangcheng_gridworker").update(is_active=False)
    assert bearer(token).get("/api/v1/me/").status_code == 401


@pytest.mark.parametrize("change, field", [
    ({"scopes": []}, "scopes"),
    ({"scopes": ["cases:delete"]}, "scopes"),
    ({"expires_at": "past"}, "expires_at"),
    ({"expires_at": "two years"}, "expires_at"),
    ({"label": " "}, "label"),
    ({"acts_as": "prov_admin"}, "acts_as"),
])
def test_bad_requests_for_a_token_are_refused_by_field(world, change, field):
    values = {"label": "热线", "scopes": ["cases:read"], "expires_at": timezone.now() + timedelta(days=10),
              "acts_as": world.user("shangcheng_operator")}
    if change.get("expires_at") == "past":
        change = {"expires_at": timezone.now() - timedelta(days=1)}
    elif change.get("expires_at") == "two years":
        change = {"expires_at": timezone.now() + timedelta(days=730)}
    elif "acts_as" in change:
        change = {"acts_as": world.user(change["acts_as"])}
    with tenant_context(world.shangcheng):
        before = ApiToken.objects.count()
        with pytest.raises(ValidationError) as refused:
            actions.create_token(**{**values, **change}, acting_user=None)
        assert field in refused.value.message_dict
        assert ApiToken.objects.count() == before


def test_the_county_admin_issues_lists_and_revokes_on_the_page(world):
    admin = Client(HTTP_HOST=SHANGCHENG, HTTP_ACCEPT_LANGUAGE="en")
    admin.force_login(world.user("shangcheng_admin"))
    page = admin.get("/api-tokens/")
    assert page.status_code == 200 and "Issue a token" in page.content.decode()
    with tenant_context(world.shangcheng):
        operator_pk = world.user("shangcheng_operator").pk
    day = (timezone.localdate() + timedelta(days=60)).isoformat()
    made = admin.post("/api-tokens/", {"label": "网格通对接", "acts_as": operator_pk, "scopes": ["cases:read"],
                                       "expires_on": day})
    assert made.status_code == 200
    token = made.context["issued"]
    assert token and token in made.content.decode()
    again = admin.get("/api-tokens/").content.decode()
    assert "网格通对接" in again and token not in again  # shown once, never again
    assert bearer(token).get("/api/v1/cases/").status_code == 200
    with tenant_context(world.shangcheng):
        row = ApiToken.objects.get(label="网格通对接")
        assert AuditEntry.objects.filter(action="api_token.create", target_id=str(row.pk),
                                         actor_id=world.user("shangcheng_admin").pk).exists()
    assert admin.post(f"/api-tokens/{row.pk}/revoke/").status_code == 302
    assert bearer(token).get("/api/v1/cases/").status_code == 401
    with tenant_context(world.shangcheng):
        assert AuditEntry.objects.filter(action="api_token.revoke", target_id=str(row.pk)).exists()
    # A bad form: a clear error by field, nothing made.
    bad = admin.post("/api-tokens/", {"label": "x", "acts_as": operator_pk, "scopes": ["cases:read"],
                                      "expires_on": (timezone.localdate() + timedelta(days=800)).isoformat()})
    assert bad.status_code == 400 and "A token lives a year at most." in bad.content.decode()
    with tenant_context(world.shangcheng):
        assert not ApiToken.objects.filter(label="x").exists()


def test_only_the_county_admin_reaches_the_token_page(world):
    row, token = issue(world, "cases:read")
    for username, host in [("shangcheng_operator", SHANGCHENG), ("shangcheng_gridworker", SHANGCHENG),
                           ("yuhang_admin", SHANGCHENG), ("shangcheng_admin", YUHANG)]:
        http = Client(HTTP_HOST=host)
        http.force_login(world.user(username))
        assert http.get("/api-tokens/").status_code == 404, username
        assert http.post("/api-tokens/", {"label": "x", "scopes": ["cases:read"]}).status_code == 404, username
        assert http.post(f"/api-tokens/{row.pk}/revoke/").status_code == 404, username
    assert Client(HTTP_HOST=SHANGCHENG).get("/api-tokens/").status_code == 302  # sign in first
    with tenant_context(world.shangcheng):
        row.refresh_from_db()
        assert row.revoked_at is None and ApiToken.objects.filter(label="x").count() == 0
    assert bearer(token).get("/api/v1/cases/").status_code == 200


def test_the_command_issues_lists_and_revokes(world):
    out = StringIO()
    day = (timezone.localdate() + timedelta(days=30)).isoformat()
    call_command("api", "token", "create", "--tenant", "shangcheng", "--label", "热线", "--acts-as",
                 "shangcheng_operator", "--scopes", "cases:read,org:read", "--expires", day, stdout=out)
    token = out.getvalue().strip()
    assert token.startswith("cgt_") and bearer(token).get("/api/v1/org/units/").status_code == 200
    listing = StringIO()
    call_command("api", "token", "list", "--tenant", "shangcheng", stdout=listing)
    assert "热线" in listing.getvalue() and token not in listing.getvalue() and "active" in listing.getvalue()
    with tenant_context(world.shangcheng):
        pk = ApiToken.objects.get(label="热线").pk
    call_command("api", "token", "revoke", "--tenant", "shangcheng", str(pk), stdout=StringIO())
    assert bearer(token).get("/api/v1/org/units/").status_code == 401
    with pytest.raises(CommandError):
        call_command("api", "token", "create", "--tenant", "shangcheng", "--label", "x", "--acts-as",
                     "shangcheng_operator", "--scopes", "everything", "--expires", day, stdout=StringIO())


def module_on(world, plugin_id: str, tenant=None) -> None:
    from civicgrid.plugins import actions as plugin_actions
    from civicgrid.plugins.catalog import sync_catalog
    from civicgrid.plugins.models import CatalogEntry

    connection.set_schema_to_public()  # a request made before leaves the connection in its tenant
    if not CatalogEntry.objects.filter(plugin_id=plugin_id).exists():
        sync_catalog()
    plugin_actions.publish_plugin(plugin_id=plugin_id, published=True, acting_user=None)
    plugin_actions.enable_plugin(tenant=tenant or world.shangcheng, plugin_id=plugin_id, acting_user=None)


def test_the_page_offers_the_scopes_of_the_modules_switched_on_here(world):
    module_on(world, "fire_safety")
    admin = Client(HTTP_HOST=SHANGCHENG, HTTP_ACCEPT_LANGUAGE="en")
    admin.force_login(world.user("shangcheng_admin"))
    page = admin.get("/api-tokens/")
    offered = [value for value, _label in page.context["form"].fields["scopes"].choices]
    assert "module:fire_safety:read" in offered and "module:fire_safety:write" in offered
    assert not any(scope.startswith("module:food_safety") for scope in offered)  # not switched on here
    assert "Read the module Fire safety" in page.content.decode()
    with tenant_context(world.shangcheng):
        operator_pk = world.user("shangcheng_operator").pk
    day = (timezone.localdate() + timedelta(days=60)).isoformat()
    made = admin.post("/api-tokens/", {"label": "消防物联", "acts_as": operator_pk, "expires_on": day,
                                       "scopes": ["module:fire_safety:read"]})
    assert made.status_code == 200 and made.context["issued"]
    assert bearer(made.context["issued"]).get("/api/v1/p/fire_safety/units/").status_code == 200
    assert bearer(made.context["issued"]).get("/api/v1/cases/").status_code == 403
    # A module that is not on here cannot be chosen: a clear error, nothing issued.
    bad = admin.post("/api-tokens/", {"label": "食安", "acts_as": operator_pk, "expires_on": day,
                                      "scopes": ["module:food_safety:read"]})
    assert bad.status_code == 400 and "module:food_safety:read" in bad.content.decode()
    # 余杭区 has no module on: its admin is offered the core's scopes only.
    other = Client(HTTP_HOST=YUHANG, HTTP_ACCEPT_LANGUAGE="en")
    other.force_login(world.user("yuhang_admin"))
    offered = [value for value, _label in other.get("/api-tokens/").context["form"].fields["scopes"].choices]
    assert not any(scope.startswith("module:") for scope in offered)
    with tenant_context(world.shangcheng):
        assert list(ApiToken.objects.filter(label__in=["消防物联", "食安"]).values_list("scopes", flat=True)) == [
            ["module:fire_safety:read"]]


def test_the_command_issues_module_scopes_of_modules_switched_on(world):
    from django.utils import translation

    day = (timezone.localdate() + timedelta(days=30)).isoformat()
    command = ["api", "token", "create", "--label", "消防", "--acts-as", "shangcheng_operator", "--expires", day,
               "--scopes", "module:fire_safety:read"]
    with translation.override("en"), pytest.raises(CommandError, match="No module switched on here"):
        call_command(*command, "--tenant", "shangcheng", stdout=StringIO())
    module_on(world, "fire_safety")
    out = StringIO()
    call_command(*command, "--tenant", "shangcheng", stdout=out)
    assert bearer(out.getvalue().strip()).get("/api/v1/p/fire_safety/units/").status_code == 200
    with pytest.raises(CommandError):  # on in 上城区, not in 余杭区
        call_command(*command[:5], "yuhang_operator", *command[6:], "--tenant", "yuhang", stdout=StringIO())
