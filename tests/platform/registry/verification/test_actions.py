"""verify_people: one outcome per row, in order, masked; scope; one audit row per run."""

import pytest
from django.http import Http404
from django.utils import translation
from django_tenants.utils import tenant_context

from civicgrid.platform.audit.models import AuditEntry
from civicgrid.platform.registry.protection import mask_id_number
from civicgrid.platform.registry.verification import selectors
from civicgrid.platform.registry.verification.actions import (
    Row,
    normalise_address,
    normalise_name,
    verify_people,
)


def verify(setup, username, rows, tenant=None):
    staff = setup.staff(username, tenant)
    with tenant_context(tenant or setup.world.shangcheng):
        return verify_people(staff=staff, rows=[Row(**r) for r in rows], channel="test")


def test_each_outcome_in_input_order(setup):
    zhang, wang = setup.people["zhang"], setup.people["wang"]
    rows = [
        setup.row("zhang"),                                          # consistent
        setup.row("wang", address="延安路８号"),                      # consistent: actual address, full-width
        setup.row("zhang", address="解放路2号"),                      # different address
        setup.row("wang", name="王武"),                               # different name
        setup.row("zhang", name="张叁", address="别处"),               # both differ
        {"name": "某人", "id_number": setup.unregistered[0], "address": "某地"},  # not found
        {"name": "某人", "id_number": "12345", "address": "某地"},     # invalid: format
        {"name": "某人", "id_number": zhang.id_number[:17] + ("1" if zhang.id_number[17] != "1" else "2"),
         "address": "某地"},                                          # invalid: checksum
    ]
    with translation.override("en"):
        results = verify(setup, "shangcheng_operator", rows)
    assert [r.outcome for r in results] == ["consistent", "consistent", "different", "different", "different",
                                            "not_found", "invalid_id", "invalid_id"]
    assert [r.differences for r in results[2:5]] == [("address",), ("name",), ("name", "address")]
    assert [r.line for r in results] == list(range(1, 9))
    assert results[6].reason and results[7].reason and results[6].reason != results[7].reason
    assert "check digit" in results[7].reason
    assert results[0].id_number == mask_id_number(zhang.id_number) != zhang.id_number
    assert results[1].id_number == mask_id_number(wang.id_number)
    assert all(zhang.id_number not in r.id_number and wang.id_number not in r.id_number for r in results)
    assert results[6].id_number == mask_id_number("12345") == "*****"


def test_typing_variants_are_consistent(setup):
    zhang = setup.people["zhang"]
    rows = [
        {"name": " 张 三 ", "id_number": f" {zhang.id_number.lower()} ", "address": "解放路 1 号"},
        {"name": "张三", "id_number": zhang.id_number.translate(str.maketrans("0123456789", "０１２３４５６７８９")),
         "address": "解放路１号"},
    ]
    assert [r.outcome for r in verify(setup, "shangcheng_admin", rows)] == ["consistent", "consistent"]


def test_normalisation():
    assert normalise_address("中山路　１２号 ３幢") == normalise_address("中山路12号3幢")
    assert normalise_name("阿依古丽•买买提") == normalise_name("阿依古丽·买买提")
    assert normalise_name("Zhang San") == normalise_name("ZHANGSAN")


def test_an_empty_address_matches_nothing_on_file(setup):
    # 张三 has no actual address: an empty input address must not match that empty field.
    results = verify(setup, "shangcheng_admin", [setup.row("zhang", address="")])
    assert results[0].outcome == "different" and results[0].differences == ("address",)


def test_a_person_outside_the_scope_is_not_found(setup):
    rows = [setup.row("zhang"), setup.row("li")]  # T01, T02
    assert [r.outcome for r in verify(setup, "vf_township", rows)] == ["consistent", "not_found"]
    assert [r.outcome for r in verify(setup, "vf_dept_township", rows)] == ["consistent", "not_found"]
    # The community (T01-C01) sees 张三 but not 王五 (T01-C02).
    community = verify(setup, "vf_community", [setup.row("zhang"), setup.row("wang")])
    assert [r.outcome for r in community] == ["consistent", "not_found"]
    assert [r.outcome for r in verify(setup, "shangcheng_admin", rows)] == ["consistent", "consistent"]


def test_another_tenants_person_is_not_found(setup):
    rows = [setup.row("zhao_yuhang")]
    assert verify(setup, "shangcheng_admin", rows)[0].outcome == "not_found"
    assert verify(setup, "yuhang_admin", rows, tenant=setup.world.yuhang)[0].outcome == "consistent"


@pytest.mark.parametrize("username", ["shangcheng_gridworker", "vf_auditor", "vf_dept_county"])
def test_roles_that_may_not_verify_get_404_and_no_audit(setup, username):
    before = setup.audit_count()
    with pytest.raises(Http404):
        verify(setup, username, [setup.row("zhang")])
    assert setup.audit_count() == before


def test_exactly_one_audit_row_per_run(setup):
    before = setup.audit_count()
    rows = [setup.row("zhang"), setup.row("li", address="x"), {"name": "a", "id_number": "1", "address": ""}]
    verify(setup, "shangcheng_operator", rows)
    assert setup.audit_count() == before + 1
    with tenant_context(setup.world.shangcheng):
        entry = AuditEntry.objects.filter(action="registry.verified").first()
    assert entry.actor_label == "shangcheng_operator"
    assert entry.data["rows"] == 3
    assert entry.data["outcomes"] == {"consistent": 1, "different": 1, "not_found": 0, "invalid_id": 1}
    # The trail records counts, never the people checked.
    assert setup.people["zhang"].id_number not in str(entry.data) and "张三" not in str(entry.data)


def test_large_lists_take_the_temporary_table_and_agree(setup, monkeypatch):
    rows = [setup.row("zhang"), setup.row("li"), setup.row("wang", address="x"),
            {"name": "某人", "id_number": setup.unregistered[1], "address": "某地"}]
    chunked = verify(setup, "vf_township", rows)
    monkeypatch.setattr(selectors, "TEMP_TABLE_FROM", 1)
    joined = verify(setup, "vf_township", rows)
    again = verify(setup, "vf_township", rows)  # the temporary table is emptied, not re-created
    assert [r.outcome for r in joined] == [r.outcome for r in chunked] == [r.outcome for r in again] \
        == ["consistent", "not_found", "different", "not_found"]


def test_duplicate_rows_each_get_a_result(setup):
    results = verify(setup, "shangcheng_admin", [setup.row("zhang")] * 3)
    assert [r.outcome for r in results] == ["consistent"] * 3
