"""Unmasking: county admins and command operators see a clear value with a stated
purpose, one audit row each time; every refusal leaves the trail untouched."""

import pytest
from django_tenants.utils import tenant_context

from civicgrid.platform.audit.models import AuditEntry


def unmask_rows(registry) -> list[AuditEntry]:
    with tenant_context(registry.tenant):
        return list(AuditEntry.objects.filter(action="registry.unmasked"))


def api_unmask(client, person, **data):
    return client.post(f"/api/v1/registry/persons/{person.pk}/unmask/", data, content_type="application/json",
                       HTTP_ACCEPT_LANGUAGE="en")


@pytest.mark.parametrize("username", ["shangcheng_admin", "shangcheng_operator"])
@pytest.mark.parametrize("field", ["id_number", "phone"])
def test_unmask_returns_the_clear_value_and_writes_one_audit_row(registry, username, field):
    person = registry.persons[0]
    response = api_unmask(registry.client(username), person, field=field, purpose="上门核实低保资格")
    clear = (registry.clear_ids if field == "id_number" else registry.clear_phones)[person.pk]
    assert response.status_code == 200 and response.json() == {"field": field, "value": clear}
    rows = unmask_rows(registry)
    assert len(rows) == 1
    assert rows[0].actor_label == username and rows[0].purpose == "上门核实低保资格"
    assert rows[0].target_id == str(person.pk) and rows[0].data["field"] == field


@pytest.mark.parametrize("username, person_index, status", [
    ("shangcheng_gridworker", 0, 403),   # sees the person, may not unmask
    ("sc_auditor", 0, 403),
    ("sc_township", 0, 403),
    ("sc_community", 0, 403),
    ("sc_dept_township", 0, 403),
    ("shangcheng_gridworker", 4, 404),   # a person in another township: not even there
    ("sc_township", 4, 404),
    ("sc_dept_county", 0, 404),
])
def test_refusals_write_no_audit_row(registry, username, person_index, status):
    person = registry.persons[person_index]
    client = registry.client(username)
    assert api_unmask(client, person, field="id_number", purpose="核实身份信息").status_code == status
    page = client.post(f"/registry/persons/{person.pk}/unmask/", {"field": "id_number", "purpose": "核实身份信息"})
    assert page.status_code == status
    assert registry.clear_ids[person.pk] not in page.content.decode()
    assert unmask_rows(registry) == []


def test_a_missing_purpose_is_a_400_with_the_reason(registry):
    client = registry.client("shangcheng_admin")
    person = registry.persons[0]
    for data in ({"field": "id_number"}, {"field": "id_number", "purpose": "  "}, {"field": "phone", "purpose": "x"}):
        response = api_unmask(client, person, **data)
        assert response.status_code == 400
        assert "purpose" in response.json()["purpose"][0].lower()
    bad_field = api_unmask(client, person, field="name", purpose="核实身份信息")
    assert bad_field.status_code == 400 and "field" in bad_field.json()
    assert unmask_rows(registry) == []


def test_the_console_unmask_form_shows_the_value_once(registry):
    client = registry.client("shangcheng_operator")
    person = registry.persons[0]
    clear = registry.clear_ids[person.pk]
    page = client.get(f"/registry/persons/{person.pk}/")
    assert f'action="/registry/persons/{person.pk}/unmask/"' in page.content.decode()
    assert clear not in page.content.decode()

    shown = client.post(f"/registry/persons/{person.pk}/unmask/", {"field": "id_number", "purpose": "核实身份信息"})
    assert shown.status_code == 200 and clear in shown.content.decode()
    assert "no-store" in shown["Cache-Control"]
    assert len(unmask_rows(registry)) == 1
    # Once: the next view of the page is masked again.
    assert clear not in client.get(f"/registry/persons/{person.pk}/").content.decode()


def test_the_console_form_requires_a_purpose(registry):
    client = registry.client("shangcheng_admin")
    person = registry.persons[0]
    refused = client.post(f"/registry/persons/{person.pk}/unmask/", {"field": "id_number", "purpose": ""},
                          HTTP_ACCEPT_LANGUAGE="en")
    text = refused.content.decode()
    assert refused.status_code == 400 and "State the purpose" in text
    assert registry.clear_ids[person.pk] not in text
    assert unmask_rows(registry) == []
    assert client.get(f"/registry/persons/{person.pk}/unmask/").status_code == 405


def test_roles_that_may_not_unmask_see_no_form(registry):
    page = registry.client("shangcheng_gridworker").get(f"/registry/persons/{registry.persons[0].pk}/")
    assert page.status_code == 200 and "/unmask/" not in page.content.decode()
