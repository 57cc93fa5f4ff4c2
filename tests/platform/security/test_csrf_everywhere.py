"""CSRF everywhere a cookie authenticates: every route of every site (province, county,
community site; console pages, the API, Wagtail's admin) is sent a POST by a signed-in
session without the CSRF token. Each one refuses it with 403 and no table of the county or
of public changes. The exceptions are the endpoints no cookie authenticates: Open311
(an api_key in the body), which answers without acting on the session."""

from __future__ import annotations

import re
import uuid

import pytest
from django.db import connection
from django.test import Client
from django.urls import Resolver404, get_resolver, resolve
from django_tenants.utils import schema_context

from tests.cms.helpers import site
from tests.test_url_coverage import walk

SITES = {
    "civicgrid.config.urls_tenant": ("shangcheng.localhost", "shangcheng_admin"),
    "civicgrid.config.urls_public": ("localhost", "prov_admin"),
    "civicgrid.config.urls_site": ("xingfu.shangcheng.localhost", None),  # residents: a CSRF cookie only
}
# Authenticated by an api_key sent in the body, never by a cookie: exempt from CSRF on purpose.
TOKEN_ONLY = re.compile(r"^open311/")
CANDIDATES = ["1", "x", "0123456789abcdef0123456789abcdef", "csv", "2026-01-01", "x.json", str(uuid.uuid4())]
CONVERTERS = {"int": "1", "uuid": str(uuid.UUID(int=1)), "str": "x", "slug": "x", "path": "x/y"}


def concrete(route: str) -> str | None:
    """A path that the route matches: converters and named groups filled with a value their
    pattern accepts, optional groups left out."""
    route = re.sub(r"<(?:(\w+):)?\w+>", lambda m: CONVERTERS.get(m.group(1) or "str", "x"), route)

    def named(match):
        inner = match.group(2)
        return next((c for c in CANDIDATES if re.fullmatch(inner, c)), "x")

    route = re.sub(r"\(\?P<(\w+)>((?:[^()]|\([^()]*\))*)\)", named, route)
    route = re.sub(r"\((?:[^()]|\([^()]*\))*\)[*?]", "", route)  # optional groups: left out
    route = route.replace("^", "").replace("$", "").replace("\\", "")
    if re.search(r"[()\[\]*+?{}|]", route):
        return None
    return "/" + route


def routes(urlconf: str):
    seen = set()
    for prefix, pattern in walk(get_resolver(urlconf).url_patterns):
        path = concrete(prefix + str(pattern.pattern))
        if path is None or path in seen:
            continue
        try:
            match = resolve(path, urlconf)
        except Resolver404:
            continue
        if match.func is not pattern.callback:
            continue  # an earlier route takes this path: it is tried under its own name
        seen.add(path)
        yield path, pattern.callback


def cookie_authenticates(path: str, callback) -> bool:
    """False for Open311 (api_key) and for API views without session authentication."""
    if TOKEN_ONLY.match(path.lstrip("/")):
        return False
    from rest_framework.authentication import SessionAuthentication

    view = getattr(callback, "cls", None)
    if view is not None and hasattr(view, "authentication_classes"):
        return any(issubclass(a, SessionAuthentication) for a in view.authentication_classes)
    return True


def switch_on_every_plugin(world):
    """Modules' routes answer 404 where they are off: on, they must refuse for CSRF's sake."""
    from civicgrid.plugins import actions
    from civicgrid.plugins.catalog import sync_catalog
    from civicgrid.plugins.models import CatalogEntry

    connection.set_schema_to_public()
    sync_catalog()
    for plugin_id in ("fire_safety", "food_safety", "school_surroundings", "sample"):
        if CatalogEntry.objects.filter(plugin_id=plugin_id).exists():
            actions.publish_plugin(plugin_id=plugin_id, published=True, acting_user=None)
            actions.enable_plugin(tenant=world.shangcheng, plugin_id=plugin_id, acting_user=None)


def table_counts(schema: str) -> dict[str, int]:
    with schema_context(schema), connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", [schema])
        tables = [row[0] for row in cursor.fetchall()]
        counts = {}
        for table in tables:
            cursor.execute(f'SELECT count(*) FROM "{schema}"."{table}"')
            counts[table] = cursor.fetchone()[0]
        return counts


@pytest.mark.parametrize("urlconf", list(SITES))
def test_a_session_post_without_the_csrf_token_is_refused_everywhere(world, urlconf):
    host, username = SITES[urlconf]
    site(world.shangcheng, "T01-C01", "xingfu")
    switch_on_every_plugin(world)
    http = Client(HTTP_HOST=host, enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")
    if username:
        http.force_login(world.user(username))
    http.get("/")  # a CSRF cookie, as a browser that visited the site holds, without its token in the POST
    before = {schema: table_counts(schema) for schema in ("public", "shangcheng")}
    session, token_only = {}, {}
    for path, callback in routes(urlconf):
        response = http.post(path, {"name": "x", "label": "x", "description": "x"})
        (session if cookie_authenticates(path, callback) else token_only)[path] = response.status_code
    assert len(session) > {"tenant": 100, "public": 15, "site": 3}[urlconf.rsplit("_", 1)[1]], len(session)
    assert {p: s for p, s in session.items() if s != 403} == {}
    assert all(status in (400, 403, 404, 405) for status in token_only.values()), token_only
    after = {schema: table_counts(schema) for schema in ("public", "shangcheng")}
    # The session row itself may be touched, never added to; nothing else changes.
    for schema in after:
        changed = {t: (before[schema][t], n) for t, n in after[schema].items() if before[schema].get(t) != n}
        assert changed == {}, (schema, changed)


def test_drf_session_authentication_enforces_csrf():
    """DRF views are csrf_exempt at Django's level and check CSRF in SessionAuthentication:
    no view may swap in a session authenticator that skips that check."""
    from rest_framework.authentication import SessionAuthentication
    from rest_framework.views import APIView

    for urlconf in SITES:
        for _prefix, pattern in walk(get_resolver(urlconf).url_patterns):
            view = getattr(pattern.callback, "cls", None)
            if not (isinstance(view, type) and issubclass(view, APIView)):
                continue
            for authenticator in view.authentication_classes:
                if issubclass(authenticator, SessionAuthentication):
                    assert authenticator.enforce_csrf is SessionAuthentication.enforce_csrf, (view, authenticator)
