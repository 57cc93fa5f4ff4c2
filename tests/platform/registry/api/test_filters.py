"""Filters, exact search through the blind index, and pagination — in the API and the console."""

from unittest import mock

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from civicgrid.platform.registry import protection, selectors
from civicgrid.platform.registry.models import Person


def ids(response) -> set[int]:
    return {row["id"] for row in response.json()["results"]}


def test_grid_filter_takes_the_whole_subtree(registry):
    client = registry.client("shangcheng_admin")
    for code in ("T01", "T01-C01", "T01-C01-G01", "T02-C02-G02"):
        assert ids(client.get(f"/api/v1/registry/persons/?grid={code}&limit=100")) == registry.in_grids(code)
    assert client.get("/api/v1/registry/persons/?grid=NOPE").json()["count"] == 0
    # A filter never widens the scope: the grid worker asking for T02 gets nothing.
    worker = registry.client("shangcheng_gridworker")
    assert worker.get("/api/v1/registry/persons/?grid=T02").json()["count"] == 0
    assert ids(worker.get("/api/v1/registry/persons/?grid=T01")) == registry.in_grids("T01-C01-G01")


def search(client, body: dict, **headers):
    return client.post("/api/v1/registry/persons/search/", body, content_type="application/json", **headers)


def test_exact_search_by_id_number_and_phone(registry):
    client = registry.client("shangcheng_operator")
    person = registry.persons[3]
    clear_id = registry.clear_ids[person.pk]
    assert ids(search(client, {"id_number": clear_id.lower()})) == {person.pk}
    phone = registry.clear_phones[person.pk]
    spaced = f"{phone[:3]} {phone[3:7]} {phone[7:]}"
    assert ids(search(client, {"phone": spaced})) == {person.pk}
    assert search(client, {"id_number": "11010519491231002X"}).json()["count"] == 0
    bad = search(client, {"id_number": "12345"}, HTTP_ACCEPT_LANGUAGE="en")
    assert bad.status_code == 400 and "17 digits" in bad.json()["id_number"][0]
    # Out of scope stays out of scope, even when the number is exactly right.
    worker = registry.client("shangcheng_gridworker")
    assert search(worker, {"id_number": clear_id}).json()["count"] == 0
    # The blind index in the query string (what the console's export links carry) still works.
    index = protection.blind_index(clear_id, "id")
    assert ids(client.get(f"/api/v1/registry/persons/?id_number_index={index}")) == {person.pk}


def test_numbers_in_a_query_string_are_refused_with_where_to_send_them(registry):
    client = registry.client("shangcheng_operator")
    clear_id = registry.clear_ids[registry.persons[3].pk]
    for url in (f"/api/v1/registry/persons/?id_number={clear_id}", f"/api/v1/registry/persons/export.csv?id_number={clear_id}",
                "/api/v1/registry/persons/export.xlsx?phone=13812345678&grid=T01",
                f"/api/v1/registry/persons/search/?id_number={clear_id}",
                "/api/v1/registry/care-records/?phone=13812345678"):
        answer = (client.post(url, {}, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en") if "search" in url
                  else client.get(url, HTTP_ACCEPT_LANGUAGE="en"))
        field = "id_number" if "id_number" in url else "phone"
        assert answer.status_code == 400, url
        assert "POST /api/v1/registry/persons/search/" in answer.json()[field][0], url
        assert answer["Content-Type"].startswith("application/json")
    chinese = client.get(f"/api/v1/registry/persons/?id_number={clear_id}&phone=13812345678")
    assert chinese.status_code == 400 and set(chinese.json()) == {"id_number", "phone"}
    assert "POST /api/v1/registry/persons/search/" in chinese.json()["phone"][0]
    # Another county's host does not get as far as the question: not found.
    other = registry.client("shangcheng_operator", host="yuhang.localhost")
    assert other.get(f"/api/v1/registry/persons/?id_number={clear_id}").status_code == 404


def test_exact_search_never_decrypts(registry):
    person = registry.persons[2]
    staff = registry.staff("shangcheng_admin")
    with tenant_context(registry.tenant), mock.patch("civicgrid.platform.registry.protection.decrypt",
                                                     side_effect=AssertionError("decrypted")):
        with CaptureQueriesContext(connection) as queries:
            found = list(selectors.search_registry(staff, Person, id_number=registry.clear_ids[person.pk])
                         .values_list("pk", flat=True))
    assert found == [person.pk]
    assert "id_number_index" in queries.captured_queries[-1]["sql"]


def test_name_gender_residence_household_and_updated_since(registry):
    client = registry.client("shangcheng_admin")
    person = registry.persons[5]
    assert person.pk in ids(client.get("/api/v1/registry/persons/", {"name": person.name[1:]}))
    for gender in ("M", "F"):
        expected = {p.pk for p in registry.persons if p.gender == gender}
        assert ids(client.get(f"/api/v1/registry/persons/?gender={gender}&limit=100")) == expected
    assert client.get("/api/v1/registry/persons/?residence=floating").json()["count"] == 0
    household = registry.records["household"].pk
    assert ids(client.get(f"/api/v1/registry/persons/?household={household}")) == {
        registry.persons[0].pk, registry.persons[-1].pk}
    assert client.get("/api/v1/registry/persons/?updated_since=2999-01-01T00:00:00Z").json()["count"] == 0
    assert client.get("/api/v1/registry/persons/?updated_since=2000-01-01").json()["count"] == len(registry.persons)
    assert client.get("/api/v1/registry/persons/?gender=X").status_code == 400


def test_filters_of_other_kinds(registry):
    client = registry.client("shangcheng_admin")
    get = client.get

    def count(url):
        return get(f"/api/v1/registry/{url}").json()["count"]

    assert count("places/") == 2 and count("places/?is_key_place=true") == 1
    assert count("places/?is_key_place=false") == 1 and count("places/?kind=market") == 1
    assert count("places/?name=网吧") == 1 and count("places/?grid=T02") == 1
    assert count("things/?state=damaged") == 1 and count("things/?state=normal") == 0
    assert count("organisations/?kind=enterprise") == 1 and count("organisations/?kind=social") == 0
    assert count("houses/?is_rental=true") == 1 and count(f"houses/?building={registry.records['building'].pk}") == 1
    assert count("households/?name=解放路") == 1 and count("buildings/?code=B-0001") == 1
    assert count("care-records/?kind=dibao") == 1 and count("care-records/?kind=released") == 1
    assert count(f"care-records/?person={registry.persons[1].pk}") == 0
    # The same filters narrow the exports.
    csv = b"".join(get("/api/v1/registry/places/export.csv?is_key_place=true").streaming_content).decode("utf-8-sig")
    assert "星光网吧" in csv and "城西菜场" not in csv


def test_pagination(registry):
    client = registry.client("shangcheng_admin")
    first = client.get("/api/v1/registry/persons/?limit=4").json()
    second = client.get("/api/v1/registry/persons/?limit=4&offset=4").json()
    assert first["count"] == len(registry.persons) and len(first["results"]) == 4 and first["next"]
    assert not {r["id"] for r in first["results"]} & {r["id"] for r in second["results"]}
    assert len(client.get("/api/v1/registry/persons/?limit=100000").json()["results"]) == len(registry.persons)


def test_console_search(registry):
    client = registry.client("shangcheng_admin")
    person = registry.persons[6]
    # The number is posted and the results' address carries its blind index, not the number
    # (tests/platform/security/test_no_personal_data_in_logs.py).
    page = client.post("/registry/persons/", {"id_number": registry.clear_ids[person.pk]}, follow=True)
    assert page.redirect_chain and page.redirect_chain[0][1] == 303
    assert page.context["page"].paginator.count == 1
    assert f'href="/registry/persons/{person.pk}/"' in page.content.decode()
    # The export links carry the same question, as the index too.
    index = protection.blind_index(registry.clear_ids[person.pk], "id")
    assert f"/api/v1/registry/persons/export.csv?id_number_index={index}" in page.content.decode()
    assert registry.clear_ids[person.pk] not in page.content.decode().split("registry-exports")[1]
    bad = client.post("/registry/persons/", {"id_number": "12345"}, HTTP_ACCEPT_LANGUAGE="en")
    assert bad.status_code == 400
    assert bad.context["page"].paginator.count == 0 and "17 digits" in bad.content.decode()
    by_grid = client.get("/registry/persons/", {"grid": "T01-C02"})
    assert by_grid.context["page"].paginator.count == len(registry.in_grids("T01-C02"))
    by_name = client.get("/registry/places/", {"name": "菜场"})
    assert by_name.context["page"].paginator.count == 1
    care = client.get("/registry/care-records/", {"kind": "dibao"})
    assert care.context["page"].paginator.count == 1


def test_console_pages_paginate(registry):
    from civicgrid.platform.registry import views

    client = registry.client("shangcheng_admin")
    with mock.patch.object(views, "PAGE_SIZE", 4):
        first = client.get("/registry/persons/", {"grid": "T01"})
        assert len(first.context["rows"]) == 4 and "page=2" in first.content.decode()
        assert "grid=T01&amp;page=2" in first.content.decode()
        last = client.get("/registry/persons/", {"grid": "T01", "page": 2})
        assert len(last.context["rows"]) == len(registry.in_grids("T01")) - 4
