"""Reading a department's file: format and encoding, the header, then the rows
in pieces, without ever holding a large file in memory.

CSV is cut into blocks on row boundaries for the worker processes; a line end
inside a quoted cell is not a row boundary. Neither ``\\n`` nor ``"`` can be
part of a multi-byte character in UTF-8 or GB 18030, so the cuts are made on
the bytes, before decoding.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from civicgrid.platform.files.spreadsheets import cell_text

BLOCK_BYTES = 1 << 20
XLSX_BATCH_ROWS = 5000
ZIP_MAGIC = b"PK\x03\x04"
# GB 18030 reads every GBK (and GB 2312) file, and names beyond GBK besides.
GBK = "gb18030"
MAX_HEADER_BYTES = 1 << 16
# A department's file has tens of columns; each becomes a field of the mapping form.
MAX_COLUMNS = 500


@dataclass
class FileLayout:
    format: str  # "csv" or "xlsx"
    encoding: str  # "utf-8", "utf-8-sig", GBK; "" for XLSX
    header: list[str]
    delimiter: str = ","
    data_offset: int = 0  # CSV: where the first data row starts


def encoding_label(encoding: str) -> str:
    return {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 (BOM)", GBK: "GBK", "": "XLSX"}.get(encoding, encoding)


def inspect(stream: BinaryIO, file_name: str) -> FileLayout:
    """Format, encoding and header of a file, refusing at once what cannot be imported."""
    stream.seek(0)
    head = stream.read(4)
    if head.startswith(ZIP_MAGIC) or file_name.lower().endswith(".xlsx"):
        header = next(_xlsx_rows(stream), None)
        if header is None or not any(header[1]):
            raise ValidationError(_("The file is empty."), code="empty")
        layout = FileLayout(format="xlsx", encoding="", header=_clean_header(header[1]))
        if next(xlsx_rows(stream, skip_header=True, batch=1), None) is None:
            raise ValidationError(_("The file has a header but no rows."), code="empty")
        return layout
    encoding = detect_encoding(stream)
    stream.seek(3 if encoding == "utf-8-sig" else 0)
    first = stream.readline(MAX_HEADER_BYTES + 1)
    if len(first) > MAX_HEADER_BYTES:  # cut short, maybe inside a character: not a header anyone typed
        raise ValidationError(_("The first line (the header) is longer than %(kb)d KB; it names the columns "
                                "and cannot be that long.") % {"kb": MAX_HEADER_BYTES // 1024}, code="header")
    text = first.decode(encoding.replace("-sig", "")).strip("\r\n")
    if not text.strip():
        raise ValidationError(_("The file is empty."), code="empty")
    delimiter = "\t" if text.count("\t") > text.count(",") else ","
    header = _clean_header(next(csv.reader([text], delimiter=delimiter)))
    layout = FileLayout(format="csv", encoding=encoding, header=header, delimiter=delimiter,
                        data_offset=stream.tell())
    for line in iter(stream.readline, b""):
        if line.strip(b"\r\n" + delimiter.encode() + b' "'):
            return layout
    raise ValidationError(_("The file has a header but no rows."), code="empty")


def _clean_header(cells) -> list[str]:
    header = [str(c if c is not None else "").strip() for c in cells]
    while header and not header[-1]:
        header.pop()
    if len(header) > MAX_COLUMNS:
        raise ValidationError(_("The file has %(n)d columns; at most %(max)d can be imported.")
                              % {"n": len(header), "max": MAX_COLUMNS}, code="columns")
    return header


def detect_encoding(stream: BinaryIO) -> str:
    """UTF-8 (with or without BOM), else GBK; otherwise refuse, naming the line."""
    stream.seek(0)
    bom = stream.read(3) == codecs.BOM_UTF8
    utf8_line = _first_unreadable_line(stream, "utf-8", 3 if bom else 0)
    if utf8_line is None:
        return "utf-8-sig" if bom else "utf-8"
    gbk_line = None if not bom else utf8_line
    if not bom:
        gbk_line = _first_unreadable_line(stream, GBK, 0)
        if gbk_line is None:
            return GBK
    # The encoding that read further is the one the file was meant to have.
    raise ValidationError(
        _("Line %(line)d cannot be read: the file is neither UTF-8 nor GBK text. "
          "Save it as CSV (UTF-8 or GBK) or as an XLSX workbook.") % {"line": max(utf8_line, gbk_line)},
        code="encoding")


def _first_unreadable_line(stream: BinaryIO, encoding: str, start: int) -> int | None:
    stream.seek(start)
    line, carry = 1, b""
    while True:
        block = stream.read(BLOCK_BYTES)
        data = carry + block
        cut = data.rfind(b"\n") + 1 if block else len(data)
        if block and not cut:
            carry = data
            continue
        piece, carry = data[:cut], data[cut:]
        bad = piece.find(b"\x00")  # text files never hold NUL; the database refuses it
        try:
            piece.decode(encoding)
        except UnicodeDecodeError as exc:
            bad = exc.start if bad < 0 else min(bad, exc.start)
        if bad >= 0:
            return line + piece.count(b"\n", 0, bad)
        line += piece.count(b"\n")
        if not block:
            return None


def csv_blocks(stream: BinaryIO, layout: FileLayout, block_bytes: int | None = None
               ) -> Iterator[tuple[bytes, int, int]]:
    """(bytes, line of its first row, bytes read so far) for the data rows, cut on row boundaries."""
    block_bytes = block_bytes or BLOCK_BYTES
    stream.seek(layout.data_offset)
    line, carry, position = 2, b"", layout.data_offset
    while True:
        block = stream.read(block_bytes)
        position += len(block)
        data = carry + block
        if not block:
            if data:
                yield data, line, position
            return
        cut = data.rfind(b"\n") + 1
        # An odd number of quotes before the cut means it falls inside a quoted cell.
        while cut and data.count(b'"', 0, cut) % 2:
            cut = data.rfind(b"\n", 0, cut - 1) + 1
        if not cut:
            carry = data
            continue
        piece, carry = data[:cut], data[cut:]
        yield piece, line, position - len(carry)
        line += piece.count(b"\n")


def _xlsx_rows(stream: BinaryIO) -> Iterator[tuple[int, list[str]]]:
    from openpyxl import load_workbook

    stream.seek(0)
    try:
        workbook = load_workbook(stream, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged or foreign file
        raise ValidationError(_("The file could not be read as an Excel (XLSX) workbook."), code="xlsx") from exc
    try:
        for number, row in enumerate(workbook.active.iter_rows(values_only=True), start=1):
            yield number, [cell_text(v) for v in row]
    finally:
        workbook.close()


def xlsx_rows(stream: BinaryIO, *, skip_header: bool, batch: int = XLSX_BATCH_ROWS, width: int = 0
              ) -> Iterator[list[tuple[int, list[str]]]]:
    """Lists of (row number, cells) from the first sheet. Trailing empty cells are
    dropped and short rows padded to ``width``: a sheet has no column count of its own."""
    rows = _xlsx_rows(stream)
    if skip_header:
        next(rows, None)
    pending: list[tuple[int, list[str]]] = []
    for number, cells in rows:
        while cells and not cells[-1]:
            cells.pop()
        if not cells:
            continue
        cells.extend([""] * (width - len(cells)))
        pending.append((number, cells))
        if len(pending) >= batch:
            yield pending
            pending = []
    if pending:
        yield pending


def records(stream: BinaryIO, layout: FileLayout) -> Iterator[tuple[int, list[str], int]]:
    """(line, cells, bytes read so far) for every data row of either format, one at a time.
    For the smaller registries that are checked row by row in Python (``records`` module)."""
    if layout.format == "xlsx":
        for block in xlsx_rows(stream, skip_header=True, width=len(layout.header)):
            for number, cells in block:
                yield number, cells, 0
        return
    encoding = layout.encoding.replace("-sig", "")
    for data, first_line, position in csv_blocks(stream, layout):
        reader = csv.reader(data.decode(encoding).splitlines(keepends=True), delimiter=layout.delimiter)
        consumed = 0
        for cells in reader:
            yield first_line + consumed, cells, position
            consumed = reader.line_num
