"""The console form a grid worker uses to register a person on a household visit."""

from django_tenants.utils import tenant_context

from civicgrid.platform.registry.models import Person
from civicgrid.platform.registry.synthetic import persons

from .conftest import YUHANG

NEW = next(iter(persons(1, region="330102", seed=99)))


def form_data(grid="T01-C01-G01", **changes):
    return {"name": NEW.name, "id_number": NEW.id_number, "phone": NEW.phone, "grid": grid,
            "residence": "floating", "registered_address": "", "actual_address": NEW.address, **changes}


def person_count(registry) -> int:
    with tenant_context(registry.tenant):
        return Person.objects.count()


def test_a_grid_worker_registers_a_person_in_their_grid(registry):
    client = registry.client("shangcheng_gridworker")
    page = client.get("/registry/persons/new/").content.decode()
    assert "T01-C01-G01" in page and "T01-C01-G02" not in page  # only their own grid is offered
    response = client.post("/registry/persons/new/", form_data())
    assert response.status_code == 302
    with tenant_context(registry.tenant):
        person = Person.objects.get(pk=response["Location"].rstrip("/").rsplit("/", 1)[1])
        assert person.grid.code == "T01-C01-G01" and person.id_number() == NEW.id_number
        assert person.source == "grid" and person.residence == "floating"
    detail = client.get(response["Location"]).content.decode()
    assert NEW.id_number not in detail and NEW.id_number[:6] + "********" in detail


def test_bad_input_is_refused_in_the_users_language_and_changes_nothing(registry):
    before = person_count(registry)
    client = registry.client("shangcheng_gridworker")
    bad_id = NEW.id_number[:-1] + ("0" if NEW.id_number[-1] != "0" else "1")
    page = client.post("/registry/persons/new/", form_data(id_number=bad_id), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert page.status_code == 200 and "校验" in page.content.decode()
    other_grid = client.post("/registry/persons/new/", form_data(grid="T02-C01-G01"))
    assert other_grid.status_code == 200  # not a choice for this worker
    assert person_count(registry) == before


def test_only_writers_of_this_tenant_reach_the_form(registry):
    before = person_count(registry)
    for username in ("sc_auditor", "sc_dept_county"):
        client = registry.client(username)
        assert client.get("/registry/persons/new/").status_code == 404
        assert client.post("/registry/persons/new/", form_data()).status_code == 404
    other_tenant = registry.client("yuhang_operator", host="shangcheng.localhost")
    assert other_tenant.post("/registry/persons/new/", form_data()).status_code == 404
    assert registry.client("prov_admin").get("/registry/persons/new/").status_code == 404
    assert registry.client("yuhang_operator", host=YUHANG).get("/registry/persons/new/").status_code == 200
    assert person_count(registry) == before
