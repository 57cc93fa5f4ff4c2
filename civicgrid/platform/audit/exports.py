"""The audit page's rows as CSV (streamed) and XLSX: the same columns as the page,
plus the hashes, so an inspector can recompute the chain from the file."""

from __future__ import annotations

import csv
import json
import tempfile

from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _l
from django.utils.translation import pgettext_lazy

from civicgrid.platform.files.spreadsheets import defuse

from . import chain

# An XLSX is built whole before it is sent; more rows than this go as CSV.
XLSX_MAX_ROWS = 50_000

HEADERS = [_l("Row"), _l("Time"), _l("Who"), _l("Action"), _l("Target type"), _l("Target id"), pgettext_lazy("audit", "Purpose"),
           _l("Data"), _l("Time (UTC, as hashed)"), _l("Previous hash"), _l("Row hash")]


def compact(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")) if data else ""


def _cells(entry) -> list:
    return [entry.pk, timezone.localtime(entry.at).strftime("%Y-%m-%d %H:%M:%S"), defuse(entry.actor_label),
            defuse(entry.action), defuse(entry.target_type), defuse(entry.target_id), defuse(entry.purpose),
            defuse(compact(entry.data)), chain.utc_iso(entry.at), entry.prev_hash, entry.row_hash]


def _filename(extension: str) -> str:
    return f"audit-{timezone.localdate():%Y%m%d}.{extension}"


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_response(entries) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())
    language = translation.get_language()

    def lines():
        with translation.override(language):  # the body is written after the view returns
            yield "\ufeff" + writer.writerow([str(header) for header in HEADERS])  # Excel reads UTF-8
            for entry in entries.iterator(chunk_size=2000):
                yield writer.writerow(_cells(entry))

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename("csv")}"'
    return response


def xlsx_response(entries) -> FileResponse:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=str(_l("Audit trail"))[:31])
    sheet.append([str(header) for header in HEADERS])
    for entry in entries.iterator(chunk_size=2000):
        sheet.append(_cells(entry))
    target = tempfile.TemporaryFile()
    workbook.save(target)
    target.seek(0)
    return FileResponse(target, as_attachment=True, filename=_filename("xlsx"),
                        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
