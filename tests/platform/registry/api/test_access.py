"""Who sees which part of the registry, and that another tenant's users, province
users and roles without registry data get 404 from every registry URL."""

import json

import pytest
from django.test import Client
from django.urls import get_resolver
from django_tenants.utils import tenant_context

from civicgrid.platform.audit.models import AuditEntry

from .conftest import EVERYONE, SHANGCHENG, YUHANG, counts

ROUTE_NAMES = [
    "registry-home", "registry-persons", "registry-person", "registry-person-unmask", "registry-person-create",
    "registry-person-anonymise", "registry-households",
    "registry-buildings", "registry-houses", "registry-places", "registry-organisations", "registry-things",
    "registry-care-records",
    "api-registry-persons-unmask", "api-registry-persons-search", "api-registry-care-kinds",
    "api-registry-care-kinds-detail",
    *[f"api-registry-{plural}{suffix}"
      for plural in ("persons", "households", "buildings", "houses", "places", "organisations", "things",
                     "care-records")
      for suffix in ("", "-detail", "-export")],
]
ROUTES_COVERED = {name: "test_other_tenants_and_wrong_roles_get_404_everywhere" for name in ROUTE_NAMES}

# Each role's subtree: "" is the whole tenant, None is nothing at all.
SUBTREES = {
    "shangcheng_admin": "",
    "shangcheng_operator": "",
    "sc_auditor": "",
    "sc_township": "T01",
    "sc_community": "T01-C01",
    "shangcheng_gridworker": "T01-C01-G01",
    "sc_dept_township": "T01",
    "sc_dept_county": None,
}


def registry_route_names() -> set[str]:
    names = set()
    for module in ("civicgrid.platform.registry.urls", "civicgrid.platform.api.registry_urls"):
        names |= {p.name for p in get_resolver(module).url_patterns}
    return names


def requests_for(registry) -> list[tuple[str, str, str, dict | None]]:
    """One request per route: (route name, method, URL, JSON body), with valid bodies so
    that only who asks decides the answer."""
    r = registry.records
    person = registry.persons[0]
    api = "/api/v1/registry"
    new_person = {"name": "新人", "id_number": "11010519491231002X", "grid": "T01-C01-G01"}
    plan = [
        ("registry-home", "get", "/registry/", None),
        ("registry-persons", "get", "/registry/persons/", None),
        ("registry-person", "get", f"/registry/persons/{person.pk}/", None),
        ("registry-person-unmask", "post-form", f"/registry/persons/{person.pk}/unmask/",
         {"field": "id_number", "purpose": "核实身份信息"}),
        ("registry-person-create", "post-form", "/registry/persons/new/",
         {**new_person, "residence": "registered", "phone": "", "registered_address": "", "actual_address": ""}),
        ("registry-person-anonymise", "post-form", f"/registry/persons/{person.pk}/anonymise/",
         {"reason": "申请编号 PIPL-1", "confirm": "on"}),
        ("api-registry-persons-unmask", "post", f"{api}/persons/{person.pk}/unmask/",
         {"field": "id_number", "purpose": "核实身份信息"}),
        ("api-registry-persons-search", "post", f"{api}/persons/search/", {"grid": "T01-C01-G01"}),
        ("api-registry-care-kinds", "get", f"{api}/care-kinds/", None),
        ("api-registry-care-kinds-detail", "get", f"{api}/care-kinds/dibao/", None),
    ]
    targets = {"persons": (person, new_person, {"phone": "13900000000"}),
               "households": (r["household"], {"number": "HH-9", "address": "某路", "grid": "T01-C01-G01"},
                              {"address": "新地址"}),
               "buildings": (r["building"], {"code": "B-9", "address": "某路9号", "grid": "T01-C01-G01"},
                             {"floors": 9}),
               "houses": (r["house"], {"building": r["building"].pk, "room": "909"}, {"is_rental": False}),
               "places": (r["place"], {"name": "某店", "kind": "restaurant", "address": "某路",
                                       "grid": "T01-C01-G01"}, {"is_key_place": False}),
               "organisations": (r["organisation"], {"name": "某公司", "kind": "enterprise",
                                                     "credit_code": "91330102MA2B123451",
                                                     "grid": "T01-C01-G01"}, {"address": "某路"}),
               "things": (r["thing"], {"code": "MH-9", "kind": "manhole", "latitude": "30.2",
                                       "longitude": "120.1", "grid": "T01-C01-G01"}, {"state": "normal"}),
               "care-records": (r["dibao_record"], {"person": registry.persons[1].pk, "kind": "dibao",
                                                   "values": {"monthly_allowance": "100"}},
                                {"values": {"monthly_allowance": "900"}})}
    for plural, (row, create, change) in targets.items():
        plan += [
            (f"api-registry-{plural}", "get", f"{api}/{plural}/", None),
            (f"api-registry-{plural}", "post", f"{api}/{plural}/", create),
            (f"api-registry-{plural}-detail", "get", f"{api}/{plural}/{row.pk}/", None),
            (f"api-registry-{plural}-detail", "patch", f"{api}/{plural}/{row.pk}/", change),
            (f"api-registry-{plural}-export", "get", f"{api}/{plural}/export.csv", None),
            (f"api-registry-{plural}-export", "get", f"{api}/{plural}/export.xlsx", None),
        ]
        if plural != "care-records":
            plan.append((f"registry-{plural}", "get", f"/registry/{plural}/", None))
        else:
            plan.append(("registry-care-records", "get", "/registry/care-records/", None))
    return plan


def send(client, method, url, body):
    if method == "get":
        return client.get(url)
    if method == "post-form":
        return client.post(url, body)
    return getattr(client, method)(url, data=json.dumps(body), content_type="application/json")


def audit_count(tenant) -> int:
    with tenant_context(tenant):
        return AuditEntry.objects.count()


def test_other_tenants_and_wrong_roles_get_404_everywhere(registry):
    plan = requests_for(registry)
    assert {name for name, *_ in plan} == registry_route_names() == set(ROUTE_NAMES)
    before = counts(registry.tenant), audit_count(registry.tenant)

    other_tenant = registry.client("yuhang_operator", SHANGCHENG)
    province_user = registry.client("prov_admin", SHANGCHENG)
    for name, method, url, body in plan:
        assert send(other_tenant, method, url, body).status_code == 404, (name, method, url)
        assert send(province_user, method, url, body).status_code == 404, (name, method, url)

    # A county department handles cases, not the registry: its registry is empty.
    department = registry.client("sc_dept_county")
    for name, method, url, body in plan:
        response = send(department, method, url, body)
        if name == "api-registry-persons-search" or method == "get" and (
                url.endswith("/registry/") or "export" in name or name in (
                "registry-persons", "registry-households", "registry-buildings", "registry-houses",
                "registry-places", "registry-organisations", "registry-things", "registry-care-records",
                "api-registry-care-kinds") or (name.startswith("api-registry-") and not name.endswith("detail"))):
            assert response.status_code == 200, (name, url)
            if response["Content-Type"].startswith("application/json"):
                assert response.json()["count"] == 0, (name, url)
        elif method == "post" and name in ("api-registry-houses", "api-registry-care-records"):
            # They refer to a building / person it cannot see: the same answer as one that does not exist.
            assert response.status_code == 400 and {"building", "person"} & set(response.json()), (name, url)
        else:
            assert response.status_code == 404, (name, method, url)
    assert (counts(registry.tenant), audit_count(registry.tenant)) == before

    anonymous = Client(HTTP_HOST=SHANGCHENG)
    for name, method, url, body in plan:
        status = send(anonymous, method, url, body).status_code
        assert status == (302 if url.startswith("/registry/") else 403), (name, method, url)
    assert (counts(registry.tenant), audit_count(registry.tenant)) == before


@pytest.mark.parametrize("username", EVERYONE)
def test_each_role_sees_exactly_the_persons_of_its_subtree(registry, username):
    subtree = SUBTREES[username]
    expected = set() if subtree is None else registry.in_grids(subtree)
    client = registry.client(username)

    body = client.get("/api/v1/registry/persons/?limit=500").json()
    assert {row["id"] for row in body["results"]} == expected and body["count"] == len(expected)

    page = client.get("/registry/persons/").content.decode()
    linked = {p.pk for p in registry.persons if f'href="/registry/persons/{p.pk}/"' in page}
    assert linked == expected

    export = b"".join(client.get("/api/v1/registry/persons/export.csv").streaming_content).decode("utf-8-sig")
    assert len(export.strip().splitlines()) == 1 + len(expected)

    for person in registry.persons:
        status = 200 if person.pk in expected else 404
        assert client.get(f"/api/v1/registry/persons/{person.pk}/").status_code == status
        assert client.get(f"/registry/persons/{person.pk}/").status_code == status


def test_yuhang_sees_only_yuhang(registry):
    body = registry.client("yuhang_operator", YUHANG).get("/api/v1/registry/persons/").json()
    assert body["count"] == len(registry.yuhang_persons)
    assert {row["id_number"][:6] for row in body["results"]} == {"330110"}


@pytest.mark.parametrize("username, visible", [
    ("shangcheng_gridworker", {"households": 1, "buildings": 1, "houses": 1, "places": 0, "organisations": 1,
                               "things": 0}),
    ("sc_township", {"households": 1, "buildings": 1, "houses": 1, "places": 1, "organisations": 1, "things": 1}),
    ("sc_auditor", {"households": 1, "buildings": 1, "houses": 1, "places": 2, "organisations": 1, "things": 1}),
    ("sc_dept_county", {"households": 0, "buildings": 0, "houses": 0, "places": 0, "organisations": 0,
                        "things": 0}),
])
def test_other_kinds_are_scoped_like_persons(registry, username, visible):
    client = registry.client(username)
    for plural, count in visible.items():
        assert client.get(f"/api/v1/registry/{plural}/").json()["count"] == count, plural
        page = client.get(f"/registry/{plural}/")
        assert page.status_code == 200 and page.context["page"].paginator.count == count, plural


def test_registry_home_counts_the_actors_scope(registry):
    page = registry.client("shangcheng_gridworker").get("/registry/")
    counts_shown = {row["url"]: row["count"] for row in page.context["counts"]}
    assert counts_shown["/registry/persons/"] == 2 and counts_shown["/registry/places/"] == 0
    assert counts_shown["/registry/care-records/"] == 1  # the allowance, not the sensitive kind
    text = page.content.decode()
    assert 'href="/registry/persons/"' in text and 'href="/registry/"' in text


def test_auditors_read_but_never_write(registry):
    client = registry.client("sc_auditor")
    before = counts(registry.tenant)
    person = registry.persons[0]
    assert client.get(f"/api/v1/registry/persons/{person.pk}/").status_code == 200
    created = client.post("/api/v1/registry/households/", {"number": "HH-A", "address": "某路",
                                                            "grid": "T01-C01-G01"}, content_type="application/json")
    changed = client.patch(f"/api/v1/registry/persons/{person.pk}/", {"name": "改名"},
                           content_type="application/json")
    assert created.status_code == changed.status_code == 404
    assert counts(registry.tenant) == before
    with tenant_context(registry.tenant):
        person.refresh_from_db()
    assert person.name != "改名"
