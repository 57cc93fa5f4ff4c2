"""Importing department files: good files in every encoding and format, re-import,
updates, conflicts, and bad files that change nothing."""

from __future__ import annotations

import csv
import datetime
import io
import random

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from django_tenants.utils import tenant_context
from openpyxl import load_workbook

from civicgrid.platform.audit.models import AuditEntry
from civicgrid.platform.org.models import OrgUnit
from civicgrid.platform.registry import protection
from civicgrid.platform.registry.actions import create_person
from civicgrid.platform.registry.identity import id_check_char, parse_id_number
from civicgrid.platform.registry.imports import reports, validation
from civicgrid.platform.registry.imports.models import ImportBatch, ImportMatch, ImportRow
from civicgrid.platform.registry.imports.validation import RowEncoder, RowRules
from civicgrid.platform.registry.models import Household, Person

from .helpers import (
    MAPPING,
    csv_bytes,
    import_file,
    people,
    registry_snapshot,
    staff,
    write,
    xlsx_bytes,
)


@pytest.fixture
def shangcheng(world):
    with tenant_context(world.shangcheng), translation.override("en"):
        yield world


def person(id_number: str) -> Person:
    return Person.objects.get(id_number_index=protection.blind_index(id_number, "id"))


def assert_imported(rows, source="dept:D-PSB"):
    for name, id_number, phone, address, grid in rows:
        found = person(id_number)
        assert (found.name, found.phone(), found.actual_address, found.grid.code, found.source) == (
            name, phone, address, grid, source)
        assert found.id_number() == id_number
        assert found.birth_date == parse_id_number(id_number).birth_date


# --- good files -------------------------------------------------------------------


def test_a_utf8_csv_imports_every_row_and_audits_once(shangcheng, tmp_path):
    rows = people(30, seed=101)
    audits = AuditEntry.objects.filter(action="registry.import_applied").count()
    batch = import_file(write(tmp_path, "psb.csv", csv_bytes(rows)))
    assert batch.status == ImportBatch.Status.APPLIED, batch.error
    assert batch.counts() == {"total": 30, "bad": 0, "new": 30, "updated": 0, "unchanged": 0, "conflicting": 0}
    assert batch.encoding == "utf-8"
    assert_imported(rows)
    entry = AuditEntry.objects.filter(action="registry.import_applied").first()
    assert AuditEntry.objects.filter(action="registry.import_applied").count() == audits + 1
    assert entry.actor_label == "shangcheng_admin" and entry.data["counts"]["new"] == 30


def test_a_gbk_csv_with_a_bom_less_header_imports(shangcheng, tmp_path):
    rows = people(12, seed=102)
    batch = import_file(write(tmp_path, "gbk.csv", csv_bytes(rows, encoding="gbk")))
    assert batch.status == ImportBatch.Status.APPLIED, batch.error
    assert batch.encoding == "gb18030" and batch.new_rows == 12
    assert_imported(rows)


def test_a_utf8_csv_with_a_bom_imports(shangcheng, tmp_path):
    rows = people(5, seed=103)
    batch = import_file(write(tmp_path, "bom.csv", csv_bytes(rows, bom=True)))
    assert batch.status == ImportBatch.Status.APPLIED and batch.encoding == "utf-8-sig" and batch.new_rows == 5
    assert_imported(rows)


def test_an_xlsx_imports(shangcheng, tmp_path):
    rows = people(15, seed=104)
    batch = import_file(write(tmp_path, "psb.xlsx", xlsx_bytes(rows)))
    assert batch.status == ImportBatch.Status.APPLIED, batch.error
    assert batch.file_format == "xlsx" and batch.new_rows == 15
    assert_imported(rows)


def test_optional_columns_households_and_residence(shangcheng, tmp_path):
    header = ["name", "id number", "phone", "residence", "registered address", "actual address", "grid code",
              "household number"]
    rows = [[r[0], r[1], "", "流动", "杭州市上城区户籍地址1号", r[3], r[4], "HH-IMP-1"] for r in people(2, seed=105)]
    mapping = {"name": "name", "id number": "id_number", "phone": "phone", "residence": "residence",
               "registered address": "registered_address", "actual address": "actual_address",
               "grid code": "grid", "household number": "household"}
    batch = import_file(write(tmp_path, "full.csv", csv_bytes(rows, header=header)), mapping=mapping)
    assert batch.status == ImportBatch.Status.APPLIED, batch.error
    household = Household.objects.get(number="HH-IMP-1")
    assert household.source == "dept:D-PSB" and household.members.count() == 2
    first = person(rows[0][1])
    assert first.residence == Person.Residence.FLOATING and first.phone() == ""
    assert first.registered_address == "杭州市上城区户籍地址1号"


def test_importing_the_same_file_again_changes_nothing(shangcheng, tmp_path):
    rows = people(20, seed=106)
    path = write(tmp_path, "again.csv", csv_bytes(rows))
    import_file(path)
    before = registry_snapshot()
    again = import_file(path)
    assert again.status == ImportBatch.Status.APPLIED
    assert again.counts() == {"total": 20, "bad": 0, "new": 0, "updated": 0, "unchanged": 20, "conflicting": 0}
    assert registry_snapshot() == before


def test_the_same_department_updates_its_own_records(shangcheng, tmp_path):
    rows = people(6, seed=107)
    import_file(write(tmp_path, "v1.csv", csv_bytes(rows)))
    changed = [list(r) for r in rows]
    changed[0][2] = "13900001111"  # new phone
    changed[1][3] = "新地址路1号"  # moved
    changed[2][4] = "T02-C02-G02"  # another grid
    untouched = registry_snapshot()[0]
    batch = import_file(write(tmp_path, "v2.csv", csv_bytes(changed)))
    assert batch.counts() == {"total": 6, "bad": 0, "new": 0, "updated": 3, "unchanged": 3, "conflicting": 0}
    assert person(rows[0][1]).phone() == "13900001111"
    assert person(rows[1][1]).actual_address == "新地址路1号"
    assert person(rows[2][1]).grid.code == "T02-C02-G02"
    assert [p for p in registry_snapshot()[0] if p[0] == person(rows[3][1]).pk] == \
        [p for p in untouched if p[0] == person(rows[3][1]).pk]
    differences = dict(ImportMatch.objects.filter(batch_id=batch.pk).values_list("line", "differences"))
    assert differences[2] == {"phone": [protection.mask_phone(rows[0][2]), "139****1111"]}
    assert differences[4] == {"grid": [rows[2][4], "T02-C02-G02"]}


def test_records_kept_by_grid_workers_or_other_departments_are_not_overwritten(shangcheng, tmp_path):
    grid = OrgUnit.objects.get(code="T01-C01-G01")
    worker = staff("shangcheng_gridworker")
    rows = people(3, seed=108)
    kept = create_person(staff=worker, name="王网格", id_number=rows[0][1], grid=grid, phone="13700000000",
                         actual_address="网格员核实的地址")
    same = create_person(staff=worker, name=rows[1][0], id_number=rows[1][1], grid=grid, phone=rows[1][2],
                         actual_address=rows[1][3])
    same.grid = OrgUnit.objects.get(code=rows[1][4])
    same.save(update_fields=["grid"])
    # Another department's record of the third person, imported first.
    import_file(write(tmp_path, "jus.csv", csv_bytes([rows[2]])), department="D-JUS")
    before = registry_snapshot()
    changed = [list(r) for r in rows]
    changed[2][3] = "另一个地址"
    batch = import_file(write(tmp_path, "psb.csv", csv_bytes(changed)))
    assert batch.status == ImportBatch.Status.APPLIED
    assert batch.counts() == {"total": 3, "bad": 0, "new": 0, "updated": 0, "unchanged": 1, "conflicting": 2}
    assert registry_snapshot() == before
    kept.refresh_from_db()
    assert (kept.name, kept.phone(), kept.source) == ("王网格", "13700000000", "grid")
    conflict = ImportMatch.objects.get(batch_id=batch.pk, line=2)
    assert conflict.outcome == "conflicting"
    assert conflict.differences["name"] == ["王网格", rows[0][0]]
    assert conflict.differences["phone"] == ["137****0000", protection.mask_phone(rows[0][2])]
    assert conflict.differences["actual_address"] == ["网格员核实的地址", rows[0][3]]
    assert ImportMatch.objects.get(batch_id=batch.pk, line=4).differences == {
        "actual_address": [rows[2][3], "另一个地址"]}


# --- bad files --------------------------------------------------------------------


def refused(tmp_path, name: str, data: bytes, mapping=None) -> str:
    before = (registry_snapshot(), ImportBatch.objects.count())
    with pytest.raises(ValidationError) as problem:
        import_file(write(tmp_path, name, data), mapping=mapping)
    assert (registry_snapshot(), ImportBatch.objects.count()) == before
    return " ".join(problem.value.messages)


def test_an_empty_file_is_refused_at_once(shangcheng, tmp_path):
    assert "empty" in refused(tmp_path, "empty.csv", b"")
    assert "empty" in refused(tmp_path, "blank.csv", b"\r\n\r\n")
    assert "no rows" in refused(tmp_path, "header.csv", csv_bytes([]))
    assert "no rows" in refused(tmp_path, "header.xlsx", xlsx_bytes([]))


def test_a_file_in_another_encoding_is_refused_naming_the_line(shangcheng, tmp_path):
    shift_jis = "氏名,番号,ｸﾞﾘｯﾄﾞ\n山田太郎,1,ｱ\n".encode("shift_jis")
    message = refused(tmp_path, "sjis.csv", shift_jis)
    assert "UTF-8" in message and "GBK" in message and "Line 2 " in message
    rng = random.Random(7)
    garbage = bytes(rng.randrange(256) for _ in range(5000))
    assert "neither UTF-8 nor GBK" in refused(tmp_path, "garbage.csv", garbage)
    late = csv_bytes(people(3, seed=109)) + b"\xff\xfe broken\r\n"
    assert "Line 5 " in refused(tmp_path, "late.csv", late)


def test_a_damaged_workbook_is_refused(shangcheng, tmp_path):
    assert "XLSX" in refused(tmp_path, "broken.xlsx", b"PK\x03\x04 not really a workbook")


def test_a_mapping_naming_missing_columns_is_refused(shangcheng, tmp_path):
    data = csv_bytes(people(2, seed=110))
    message = refused(tmp_path, "cols.csv", data, mapping={**MAPPING, "电话": "phone", "手机号": ""})
    assert "电话" in message
    message = refused(tmp_path, "nogrid.csv", data, mapping={k: v for k, v in MAPPING.items() if v != "grid"})
    assert "Grid code" in message
    message = refused(tmp_path, "twice.csv", data, mapping={**MAPPING, "现住址": "name"})
    assert "more than one column" in message


def test_bad_rows_reject_the_whole_batch_with_every_reason(shangcheng, tmp_path):
    good = people(4, seed=111)
    wrong_check = good[1][1][:17] + ("0" if good[1][1][17] != "0" else "1")
    rows = [
        good[0],
        [good[1][0], wrong_check, good[1][2], good[1][3], good[1][4]],  # line 3
        ["", "3301021990023", "12345", "某路", "NO-SUCH-GRID"],  # line 4
        [good[2][0], "330102199002301234", good[2][2], good[2][3], good[2][4]],  # line 5: 30 February
        [good[3][0], good[0][1], good[3][2], good[3][3], good[3][4]],  # line 6: line 2's ID again
        [good[3][0], good[3][1], good[3][2], good[3][3], good[3][4], "extra"],  # line 7
        [good[3][0], good[3][1].lower()[:17] + "Z", good[3][2], good[3][3], ""],  # line 8
    ]
    before = registry_snapshot()
    batch = import_file(write(tmp_path, "bad.csv", csv_bytes(rows)))
    assert batch.status == ImportBatch.Status.REJECTED
    assert registry_snapshot() == before
    assert batch.counts() == {"total": 7, "bad": 7, "new": 0, "updated": 0, "unchanged": 0, "conflicting": 0}
    reasons = {line: " ".join(errors or []) for line, errors in
               ImportRow.objects.filter(batch_id=batch.pk).values_list("line", "errors")}
    assert "check digit" in reasons[3]
    assert all(text in reasons[4] for text in ("name is missing", "17 digits", "phone number", "NO-SUCH-GRID"))
    assert "birth date" in reasons[5] and "does not exist" in reasons[5]
    assert "also on line 6" in reasons[2] and "also on line 2" in reasons[6]
    assert "6 columns" in reasons[7] and "5" in reasons[7]
    assert "17 digits" in reasons[8] and "grid code is missing" in reasons[8]
    assert AuditEntry.objects.filter(action="registry.import_rejected", target_id=str(batch.pk)).count() == 1


def test_one_bad_row_among_many_leaves_no_partial_import(shangcheng, tmp_path):
    rows = people(50, seed=112)
    rows[37][1] = rows[37][1][:-1] + ("1" if rows[37][1][-1] != "1" else "2")
    before = registry_snapshot()
    batch = import_file(write(tmp_path, "one.csv", csv_bytes(rows)))
    assert batch.status == ImportBatch.Status.REJECTED and batch.bad_rows == 1 and batch.new_rows == 0
    assert registry_snapshot() == before
    assert list(ImportRow.objects.filter(batch_id=batch.pk, outcome="bad").values_list("line", flat=True)) == [39]


# --- reports ----------------------------------------------------------------------


def report_texts(batch, tmp_path) -> tuple[list[list[str]], list[list[str]]]:
    xlsx_path, csv_path = reports.write_reports(batch, tmp_path / "reports")
    sheet = load_workbook(xlsx_path, read_only=True).active
    xlsx_rows = [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    text = csv_path.read_bytes().decode("utf-8-sig")
    return xlsx_rows, list(csv.reader(io.StringIO(text)))


def test_reports_mask_ids_and_phones(shangcheng, tmp_path):
    rows = people(5, seed=113)
    rows[4][2] = "1380013800X"  # a bad phone
    batch = import_file(write(tmp_path, "mask.csv", csv_bytes(rows)))
    xlsx_rows, csv_rows = report_texts(batch, tmp_path)
    assert len(xlsx_rows) == len(csv_rows) == 6
    for table in (xlsx_rows, csv_rows):
        everything = "\n".join(",".join(r) for r in table)
        for _name, id_number, phone, _address, _grid in rows:
            assert id_number not in everything and phone not in everything
        assert table[1][3] == protection.mask_id_number(rows[0][1])
        assert table[1][4] == protection.mask_phone(rows[0][2])
        assert table[5][0] == "6" and "phone" in table[5][6]


def test_report_lists_conflicts_with_their_differences(shangcheng, tmp_path):
    rows = people(2, seed=114)
    import_file(write(tmp_path, "jus.csv", csv_bytes(rows)), department="D-JUS")
    changed = [[rows[0][0] + "某", *rows[0][1:]], rows[1]]
    batch = import_file(write(tmp_path, "psb.csv", csv_bytes(changed)))
    xlsx_rows, csv_rows = report_texts(batch, tmp_path)
    assert csv_rows[1][1] == xlsx_rows[1][1] == "Conflicting" and csv_rows[2][1] == "Unchanged"
    assert f"{rows[0][0]} → {rows[0][0]}某" in csv_rows[1][7]
    assert xlsx_rows[1][7] == csv_rows[1][7] and csv_rows[2][7] == ""


def test_formulas_in_cells_are_defused_in_reports(shangcheng, tmp_path):
    rows = people(1, seed=115)
    rows[0][0] = "=HYPERLINK(1)"
    batch = import_file(write(tmp_path, "formula.csv", csv_bytes(rows)))
    xlsx_rows, csv_rows = report_texts(batch, tmp_path)
    assert xlsx_rows[1][2] == csv_rows[1][2] == "'=HYPERLINK(1)"


# --- the fast paths agree with the reference functions ---------------------------


def rules() -> RowRules:
    return RowRules(batch_id=1, columns={"name": 0, "id_number": 1, "grid": 2}, width=3, grids={},
                    residences={}, max_lengths={}, language="en")


def test_fast_id_check_accepts_exactly_what_parse_id_number_accepts():
    encoder = RowEncoder(rules())
    rng = random.Random(11)
    today = datetime.date.today()
    samples = [p[1] for p in people(300, seed=116)]
    for _ in range(3000):
        base = rng.choice(samples)
        kind = rng.randrange(9)
        if kind == 0:  # a wrong check character
            value = base[:17] + rng.choice("0123456789X")
        elif kind == 1:  # a birth date that may not exist, with its check fixed
            first = base[:6] + f"{rng.randrange(1870, 2100):04d}{rng.randrange(0, 14):02d}{rng.randrange(0, 33):02d}" \
                + base[14:17]
            value = first + id_check_char(first)
        elif kind == 2:
            value = f" {base.lower()} "
        elif kind == 3:
            value = base[:rng.randrange(18)]
        elif kind == 4:
            value = base[:5] + "\uff11" + base[6:]  # a full-width digit
        elif kind == 5:
            first = base[:6] + today.strftime("%Y%m%d") + base[14:17]
            value = first + id_check_char(first)
        elif kind == 6:
            first = base[:6] + (today + datetime.timedelta(days=1)).strftime("%Y%m%d") + base[14:17]
            value = first + id_check_char(first)
        elif kind == 7:
            value = base[:17] + "x"
        else:
            value = base
        try:
            expected = parse_id_number(value)
        except ValidationError:
            expected = None
        fast = encoder.fast_id(value)
        if expected is None:
            assert fast is None, value
        else:
            assert fast == (expected.value, expected.gender, expected.birth_date.isoformat()), value


def test_bulk_encryption_and_blind_index_are_the_registrys_own(settings):
    encoder = RowEncoder(rules())
    for value in ("330102199001011234", "13812345678", "中文"):
        assert encoder.blind_index(value, "id") == protection.blind_index(value, "id")
        assert encoder.blind_index(value, "phone") == protection.blind_index(value, "phone")
        token = bytes.fromhex(encoder.encrypt(value)[3:])  # COPY text: "\\x" + hex
        assert protection.decrypt(token) == value
    for phone in ("13812345678", "+86 138-1234-5678", "0571-87654321"):
        from civicgrid.platform.registry.identity import normalise_phone

        assert encoder.phone(phone) == normalise_phone(phone)


def test_the_quick_path_for_ordinary_rows_writes_what_the_full_check_writes():
    """``good_row`` must agree with ``row`` on every row it takes (all but the
    encrypted columns, whose nonces differ) and leave every doubtful row to ``row``."""
    columns = {"name": 0, "id_number": 1, "phone": 2, "residence": 3, "registered_address": 4,
               "actual_address": 5, "grid": 6, "household": 7}
    encoder = RowEncoder(RowRules(
        batch_id=7, columns=columns, width=8, grids={"G1": 11, "G2": 12},
        residences={"户籍": "registered", "流动": "floating"},
        max_lengths={"name": 10, "registered_address": 20, "actual_address": 20, "household": 8}, language="en"))
    rng = random.Random(5)
    people_rows = people(200, seed=121)
    took = left = 0
    for line, (name, id_number, phone, address, _grid) in enumerate(people_rows, start=2):
        cells = [name, id_number, rng.choice([phone, "", " " + phone, "0571-8765432"]),
                 rng.choice(["", "户籍", "流动", "外地"]), rng.choice(["", address[:20], address * 3]),
                 rng.choice(["", address[:20], "tab\there"]), rng.choice(["G1", "G2", "G9", ""]),
                 rng.choice(["", "H-1", "H-123456789"])]
        if rng.random() < 0.4:  # an ordinary row
            cells = [name, id_number, phone, "户籍", address[:20], "", "G2", "H-1"]
        elif rng.random() < 0.1:
            cells = cells[:5]
        quick = encoder.good_row(cells, line)
        full_text, ok, id_index = encoder.row(cells, line)
        if quick is None:
            left += 1
            continue
        took += 1
        assert ok and quick[1] == id_index
        quick_fields, full_fields = quick[0].split("\t"), full_text.split("\t")
        encrypted = {validation.COPY_COLUMNS.index("id_encrypted"), validation.COPY_COLUMNS.index("phone_encrypted")}
        for index, (a, b) in enumerate(zip(quick_fields, full_fields, strict=True)):
            if index in encrypted and b != "\\N":
                assert protection.decrypt(bytes.fromhex(a[3:])) == protection.decrypt(bytes.fromhex(b[3:]))
            else:
                assert a == b, (validation.COPY_COLUMNS[index] if index < 19 else index, a, b)
    assert took > 20 and left > 20  # both paths were exercised
