"""Lists in and results out: CSV (UTF-8, GBK) and XLSX files.

Shared by the console page and the command line, so a file reads the same
whichever way it comes in, and every result file masks ID numbers the same way
(``Result.id_number`` is masked already; nothing here sees a clear one).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from civicgrid.platform.files.spreadsheets import cell_text, decode_text, defuse

from .actions import Field, Outcome, Result, Row, normalise_address

# Header texts recognised without a mapping. These match the files' own words
# (data, not interface), so they are not translated.
HEADERS = {
    "name": ("姓名", "name"),
    "id_number": ("身份证号", "身份证号码", "公民身份号码", "证件号码", "id_number", "id"),
    "address": ("地址", "住址", "address"),
}
DEFAULT_HEADERS_HINT = "姓名 / 身份证号 / 地址, name / id_number / address"
ZIP_MAGIC = b"PK\x03\x04"


def _header_key(text: str) -> str:
    return normalise_address(text).replace("_", "").replace("-", "")


def decode_upload(data: bytes) -> str:
    text = decode_text(data)
    if text is not None:
        return text
    raise ValidationError(_("The file is neither UTF-8 nor GBK text, nor an Excel (XLSX) workbook."),
                          code="encoding")


def read_table(data: bytes, filename: str = "") -> list[list[str]]:
    """Every line of the file's first sheet as text cells."""
    if data.startswith(ZIP_MAGIC) or filename.lower().endswith((".xlsx", ".xlsm")):
        return _read_xlsx(data)
    text = decode_upload(data)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    try:
        return list(csv.reader(io.StringIO(text, newline=""), dialect))
    except csv.Error as exc:
        raise ValidationError(_("The file could not be read as CSV: %(problem)s") % {"problem": exc},
                              code="csv") from exc


def _read_xlsx(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged or foreign file
        raise ValidationError(_("The file could not be read as an Excel (XLSX) workbook."), code="xlsx") from exc
    try:
        return [[cell_text(v) for v in row] for row in workbook.active.iter_rows(values_only=True)]
    finally:
        workbook.close()


def rows_from_table(table: list[list[str]], mapping: dict[str, str] | None = None) -> list[Row]:
    """Rows by header: the first line names the columns. ``mapping`` gives the header
    text of a field's column where the file does not use the usual words."""
    # The header is the first line with anything in it (sheets often start with blank lines).
    first = next((k for k, cells in enumerate(table) if any(str(c).strip() for c in cells)), None)
    if first is None:
        raise ValidationError(_("The file is empty."), code="empty")
    header = [_header_key(c) for c in table[first]]
    columns: dict[str, int] = {}
    missing = []
    labels = {"name": pgettext("person", "Name"), "id_number": pgettext("person", "ID number"),
              "address": pgettext("person", "Address")}
    for field, aliases in HEADERS.items():
        wanted = [mapping[field]] if mapping and (mapping.get(field) or "").strip() else aliases
        index = next((header.index(_header_key(w)) for w in wanted if _header_key(w) in header), None)
        if index is None:
            missing.append(labels[field])
        else:
            columns[field] = index
    if missing:
        raise ValidationError(
            _("No column for: %(fields)s. The first line must name the columns (%(headers)s), "
              "or say which column holds each field.") % {"fields": ", ".join(missing),
                                                          "headers": DEFAULT_HEADERS_HINT},
            code="columns")
    n, i, a = columns["name"], columns["id_number"], columns["address"]
    rows = []
    for line, cells in enumerate(table[first + 1:], start=first + 2):
        if not any(str(c).strip() for c in cells):
            continue
        width = len(cells)
        rows.append(Row(
            name=cells[n].strip() if n < width else "",
            id_number=cells[i].strip() if i < width else "",
            address=cells[a].strip() if a < width else "",
            line=line,
        ))
    return rows


def read_rows(data: bytes, filename: str = "", mapping: dict[str, str] | None = None) -> list[Row]:
    return rows_from_table(read_table(data, filename), mapping)


# --- results out ------------------------------------------------------------------


def outcome_label(outcome: str) -> str:
    return str(Outcome(outcome).label)


def differences_label(differences: Iterable[str]) -> str:
    return ", ".join(str(Field(d).label) for d in differences)


def result_header() -> list[str]:
    return [pgettext("verification", "Line"), pgettext("person", "Name"), pgettext("person", "ID number"),
            pgettext("person", "Address"), pgettext("verification", "Result"), pgettext("verification", "Result code"),
            pgettext("verification", "Differs in"), pgettext("verification", "Note")]


def result_cells(result: Result) -> list:
    # The masked ID number of an invalid one keeps what the list had at its start ("=cmd|…").
    return [result.line, defuse(result.name), defuse(result.id_number), defuse(result.address),
            outcome_label(result.outcome), result.outcome, differences_label(result.differences), defuse(result.reason)]


def results_csv(results: Iterable[Result]) -> bytes:
    """UTF-8 with a byte-order mark, which Excel needs to show Chinese correctly."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(result_header())
    writer.writerows(result_cells(r) for r in results)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def results_xlsx(results: Iterable[Result]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Verification"))
    sheet.append(result_header())
    for result in results:
        sheet.append(result_cells(result))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
