"""Creating and changing registry records through the API: only where the role may
write, only within the actor's grids, every problem reported per field, nothing
half-saved."""

import pytest
from django_tenants.utils import tenant_context

from civicgrid.platform.audit.models import AuditEntry
from civicgrid.platform.registry.models import House, Organisation, Person

from .conftest import counts, uscc

NEW_ID = "11010519491231002X"  # the example from GB 11643


def post(client, url, data):
    return client.post(f"/api/v1/registry/{url}", data, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en")


def patch(client, url, data):
    return client.patch(f"/api/v1/registry/{url}", data, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en")


def test_a_grid_worker_registers_a_person_in_its_grid(registry):
    response = post(registry.client("shangcheng_gridworker"), "persons/", {
        "name": "新居民", "id_number": NEW_ID.lower(), "phone": "+86 139-0000-1111", "grid": "T01-C01-G01",
        "residence": "floating", "household": registry.records["household"].pk})
    assert response.status_code == 201
    body = response.json()
    assert body["id_number"] == "110105********002X" and body["phone"] == "139****1111"
    assert body["gender"] == "F" and body["birth_date"] == "1949-12-31" and body["household_number"] == "HH-0001"
    with tenant_context(registry.tenant):
        person = Person.objects.get(pk=body["id"])
        assert person.id_number() == NEW_ID and person.phone() == "13900001111"
        assert AuditEntry.objects.filter(action="registry.person_created", target_id=str(person.pk)).count() == 1


@pytest.mark.parametrize("username", ["shangcheng_gridworker", "sc_community"])
def test_nobody_creates_outside_its_grids(registry, username):
    before = counts(registry.tenant)
    client = registry.client(username)
    for url, data in [
        ("persons/", {"name": "外人", "id_number": NEW_ID, "grid": "T02-C01-G01"}),
        ("households/", {"number": "HH-X", "address": "某路", "grid": "T02-C01-G01"}),
        ("places/", {"name": "某店", "kind": "hotel", "address": "某路", "grid": "T02-C01-G01"}),
        ("things/", {"code": "T-X", "kind": "lamp", "latitude": "30", "longitude": "120", "grid": "T02-C01-G01"}),
    ]:
        assert post(client, url, data).status_code == 404, url
    assert counts(registry.tenant) == before


def test_bad_input_is_reported_per_field_and_saves_nothing(registry):
    client = registry.client("shangcheng_admin")
    before = counts(registry.tenant)
    bad_id = post(client, "persons/", {"name": "某人", "id_number": "110105194912310021", "phone": "12345",
                                       "grid": "T01-C01-G01"})
    assert bad_id.status_code == 400
    assert set(bad_id.json()) == {"id_number", "phone"} and "check digit" in bad_id.json()["id_number"][0]
    taken = post(client, "persons/", {"name": "重复", "id_number": registry.clear_ids[registry.persons[0].pk],
                                      "grid": "T01-C01-G01"})
    assert taken.status_code == 400 and "already registered" in taken.json()["id_number"][0]
    no_grid = post(client, "persons/", {"name": "某人", "id_number": NEW_ID, "grid": "T01-C01"})
    assert no_grid.status_code == 400 and "grid" in no_grid.json()
    bad_code = post(client, "organisations/", {"name": "某公司", "kind": "enterprise",
                                               "credit_code": "91330102MA2B123450", "grid": "T01-C01-G01"})
    assert bad_code.status_code == 400 and "check character" in bad_code.json()["credit_code"][0]
    same_room = post(client, "houses/", {"building": registry.records["building"].pk, "room": "101"})
    assert same_room.status_code == 400 and "already exists" in str(same_room.json())
    same_number = post(client, "households/", {"number": "HH-0001", "address": "某路", "grid": "T01-C01-G01"})
    assert same_number.status_code == 400 and "number" in same_number.json()
    no_place = post(client, "things/", {"code": "T-1", "kind": "lamp", "grid": "T01-C01-G01"})
    assert set(no_place.json()) == {"latitude", "longitude"}
    assert counts(registry.tenant) == before


def test_every_kind_can_be_created_and_changed(registry):
    client = registry.client("shangcheng_operator")
    owner = registry.persons[0]
    created = {
        "households": post(client, "households/", {"number": "HH-2", "address": "凤起路2号", "grid": "T02-C01-G01"}),
        "buildings": post(client, "buildings/", {"code": "B-2", "address": "凤起路2号", "floors": 3,
                                                 "latitude": "30.25", "longitude": "120.18", "grid": "T02-C01-G01"}),
        "places": post(client, "places/", {"name": "老街旅馆", "kind": "hotel", "address": "凤起路3号",
                                           "is_key_place": True, "grid": "T02-C01-G01"}),
        "organisations": post(client, "organisations/", {"name": "某社会组织", "kind": "social",
                                                         "credit_code": uscc("51330102MJ8812345").lower(),
                                                         "grid": "T02-C01-G01"}),
        "things": post(client, "things/", {"code": "LAMP-2", "kind": "street_light", "latitude": "30.25",
                                           "longitude": "120.18", "grid": "T02-C01-G01"}),
    }
    assert {k: r.status_code for k, r in created.items()} == dict.fromkeys(created, 201)
    house = post(client, "houses/", {"building": created["buildings"].json()["id"], "room": "201",
                                     "owner": owner.pk, "occupants": [owner.pk]})
    assert house.status_code == 201 and house.json()["grid"] == "T02-C01-G01"
    assert house.json()["occupants"] == [owner.pk]
    assert created["organisations"].json()["credit_code"] == uscc("51330102MJ8812345")
    changes = {"households": {"address": "凤起路4号"}, "buildings": {"floors": 5}, "places": {"is_key_place": False},
               "organisations": {"legal_representative": "张三"}, "things": {"state": "missing"}}
    for kind, change in changes.items():
        response = patch(client, f"{kind}/{created[kind].json()['id']}/", change)
        assert response.status_code == 200 and all(response.json()[k] == v for k, v in change.items()), kind
    moved = patch(client, f"houses/{house.json()['id']}/", {"occupants": [], "is_rental": True})
    assert moved.json()["occupants"] == [] and moved.json()["is_rental"] is True
    with tenant_context(registry.tenant):
        assert AuditEntry.objects.filter(action="registry.thing_updated", data__fields=["state"]).count() == 1


def test_a_grid_worker_changes_only_what_is_in_its_grid(registry):
    client = registry.client("shangcheng_gridworker")
    mine, theirs = registry.persons[0], registry.persons[4]
    changed = patch(client, f"persons/{mine.pk}/", {"phone": "13911112222", "actual_address": "新地址"})
    assert changed.status_code == 200 and changed.json()["phone"] == "139****2222"
    assert patch(client, f"persons/{theirs.pk}/", {"actual_address": "x"}).status_code == 404
    # Moving someone out of its own grid is creating there: refused, nothing changes.
    assert patch(client, f"persons/{mine.pk}/", {"grid": "T02-C01-G01"}).status_code == 404
    bad = patch(client, f"persons/{mine.pk}/", {"id_number": "123", "name": ""})
    assert bad.status_code == 400 and set(bad.json()) == {"id_number", "name"}
    with tenant_context(registry.tenant):
        person = Person.objects.get(pk=mine.pk)
        assert person.grid.code == "T01-C01-G01" and person.actual_address == "新地址"
        assert person.phone() == "13911112222" and person.id_number() == registry.clear_ids[mine.pk]
        assert Person.objects.get(pk=theirs.pk).actual_address != "x"


def test_a_new_id_number_updates_gender_and_birth_date(registry):
    client = registry.client("shangcheng_admin")
    person = registry.persons[1]
    response = patch(client, f"persons/{person.pk}/", {"id_number": NEW_ID})
    assert response.status_code == 200 and response.json()["birth_date"] == "1949-12-31"
    found = client.post("/api/v1/registry/persons/search/", {"id_number": NEW_ID}, content_type="application/json").json()
    assert [row["id"] for row in found["results"]] == [person.pk]
    taken = patch(client, f"persons/{person.pk}/", {"id_number": registry.clear_ids[registry.persons[0].pk]})
    assert taken.status_code == 400 and "id_number" in taken.json()


def test_references_outside_the_scope_are_not_found(registry):
    client = registry.client("shangcheng_gridworker")
    before = counts(registry.tenant)
    with tenant_context(registry.tenant):
        far = Person.objects.get(pk=registry.persons[4].pk)
    response = post(client, "houses/", {"building": registry.records["building"].pk, "room": "102",
                                        "owner": far.pk})
    assert response.status_code == 400 and "owner" in response.json()
    assert counts(registry.tenant) == before
    with tenant_context(registry.tenant):
        assert not House.objects.filter(room="102").exists() and Organisation.objects.count() == 1
