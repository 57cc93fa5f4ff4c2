"""Files of persons as departments send them, and a way to import them."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from django.core.exceptions import ValidationError

from civicgrid.platform.accounts.staff.models import StaffProfile
from civicgrid.platform.registry.imports import actions
from civicgrid.platform.registry.imports.models import ImportBatch
from civicgrid.platform.registry.models import Household, Person
from civicgrid.platform.registry.synthetic import persons

HEADER = ["姓名", "身份证号", "手机号", "现住址", "网格编码"]
MAPPING = {"姓名": "name", "身份证号": "id_number", "手机号": "phone", "现住址": "actual_address",
           "网格编码": "grid"}
GRIDS = ["T01-C01-G01", "T01-C01-G02", "T01-C02-G01", "T02-C01-G01"]


def people(count: int, seed: int, region: str = "330102") -> list[list[str]]:
    """Rows of valid synthetic persons (unique per seed) in HEADER's order."""
    return [[p.name, p.id_number, p.phone, p.address, GRIDS[i % len(GRIDS)]]
            for i, p in enumerate(persons(count, region=region, seed=seed))]


def csv_bytes(rows: list[list[str]], header=HEADER, encoding: str = "utf-8", bom: bool = False) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    data = out.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" if bom else b"") + data


def xlsx_bytes(rows: list[list], header=HEADER) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def staff(username: str) -> StaffProfile:
    return StaffProfile.objects.select_related("user").get(user__username=username)


def import_file(path: Path, *, by: str | None = "shangcheng_admin", department: str = "D-PSB",
                mapping: dict | None = None) -> ImportBatch:
    """Open, map and run a batch, as the command line does."""
    actor = staff(by) if by else None
    batch = actions.open_batch(staff=actor, department_code=department, file_name=path.name, path=str(path))
    try:
        actions.map_columns(staff=actor, batch=batch, column_mapping=MAPPING if mapping is None else mapping)
    except ValidationError:
        actions.discard_batch(staff=actor, batch=batch)  # as the command line does: refused at once
        raise
    return actions.run_import(batch=batch)


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def registry_snapshot() -> tuple:
    """Everything an import could change in the registry."""
    return (
        sorted(Person.objects.values_list("id", "name", "phone_index", "actual_address", "registered_address",
                                          "residence", "grid_id", "household_id", "source", "updated_at")),
        sorted(Household.objects.values_list("id", "number", "updated_at")),
    )
