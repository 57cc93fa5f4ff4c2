"""Cells of the spreadsheets people upload and download (CSV and XLSX), in one place
for every import, verification and export."""

from __future__ import annotations

import codecs
import datetime

# Spreadsheet programs run a cell that starts with one of these as a formula (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def defuse(value) -> str:
    """Text for a cell of a file we hand out: a leading apostrophe keeps a formula inert."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def cell_text(value) -> str:
    """An XLSX cell read back as the text a person typed: 2.0 → "2", a date without its time."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    return str(value)


def decode_text(data: bytes) -> str | None:
    """Text of an uploaded CSV as spreadsheets in China save it: UTF-8 (with or without
    BOM), GBK (read as GB 18030, its superset), or UTF-16 with its byte-order mark
    (Excel's "Unicode text"). None when it is none of them; the caller says why."""
    encodings = ["utf-8-sig", "gb18030"]
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings.insert(0, "utf-16")
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def tables_xlsx_response(tables, filename: str):
    """A workbook of small tables, one sheet each: ``tables`` is [(title, headers, rows)].
    Text cells are defused (a leading =, +, - or @ stays text, not a formula)."""
    import tempfile

    from django.http import FileResponse
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    for title, headers, rows in tables:
        sheet = workbook.create_sheet(title=str(title)[:31])
        sheet.append([str(header) for header in headers])
        for row in rows:
            sheet.append([value if isinstance(value, int | float) else defuse(value) for value in row])
    target = tempfile.TemporaryFile()
    workbook.save(target)
    target.seek(0)
    return FileResponse(target, as_attachment=True, filename=filename,
                        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
