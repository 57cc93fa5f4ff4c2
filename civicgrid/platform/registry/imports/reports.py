"""The reconciliation report: one line per input row, with its outcome, reasons
and differences. ID numbers and phones appear only masked: the staged rows
hold nothing else.

Written as CSV (UTF-8 with BOM, so spreadsheet programs read the Chinese) or
XLSX; both stream from the staging table, a few thousand rows at a time.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from django.db import connection
from django.utils.translation import gettext as _

from civicgrid.platform.files.spreadsheets import defuse
from civicgrid.platform.registry.models import Person

from . import targets
from .models import PERSONS, Field, ImportBatch, ImportMatch, ImportRecord, ImportRow, Outcome

CHUNK = 5000


def columns(batch: ImportBatch | None = None) -> list[str]:
    if batch is not None and batch.target != PERSONS:
        mapped = dict(targets.fields(batch.target))
        return [_("Line"), _("Outcome"), *(str(mapped.get(f, f)) for f in _mapped_fields(batch)), _("Reasons"),
                _("Differences (registry → file)")]
    return [_("Line"), _("Outcome"), _("Name"), _("ID number"), _("Phone"), _("Grid code"), _("Reasons"),
            _("Differences (registry → file)")]


def _residence(value):
    labels = dict(Person.Residence.choices)
    return str(labels.get(value, value or ""))


def _mapped_fields(batch: ImportBatch) -> list[str]:
    """The mapped fields in the target's order (the mapping is stored as JSONB, which keeps no order)."""
    mapped = set(batch.column_mapping.values())
    return [name for name, _label in targets.fields(batch.target) if name in mapped]


def describe_differences(differences: dict | None, labels: dict | None = None) -> str:
    if not differences:
        return ""
    labels = {f.value: str(f.label) for f in Field} if labels is None else {k: str(v) for k, v in labels.items()}
    parts = []
    for field, (old, new) in differences.items():
        if field == "residence":
            old, new = _residence(old), _residence(new)
        parts.append(f"{labels.get(field, field)}: {old or '—'} → {new or '—'}")
    return "; ".join(parts)


def _json(value):
    return json.loads(value) if isinstance(value, str) else value


def _outcome_labels(batch: ImportBatch) -> dict[str, str]:
    labels = {value: str(label) for value, label in Outcome.choices}
    if batch.status != ImportBatch.Status.APPLIED:
        labels[Outcome.NEW] = _("Valid, not applied")
    return labels


def record_rows(batch: ImportBatch) -> Iterator[list[str]]:
    """A plugin registry's batch: each row's mapped cells as read, its outcome, reasons and differences."""
    labels, fields = _outcome_labels(batch), _mapped_fields(batch)
    names = dict(targets.fields(batch.target))
    staged = ImportRecord.objects.filter(batch_id=batch.pk).order_by("line")
    for record in staged.iterator(chunk_size=CHUNK):
        yield [str(record.line), labels[record.outcome], *(defuse(str(record.cells.get(f, ""))) for f in fields),
               defuse("; ".join(record.errors or [])),
               defuse(describe_differences(record.differences, names))]


def rows(batch: ImportBatch) -> Iterator[list[str]]:
    """Report lines in file order: each staged row with its match, if any."""
    if batch.target != PERSONS:
        yield from record_rows(batch)
        return
    labels = _outcome_labels(batch)
    with connection.chunked_cursor() as cursor:
        cursor.execute(f"""
            SELECT s.line, COALESCE(m.outcome, s.outcome), s.name, s.id_masked, s.phone_masked, s.grid_code,
                   s.errors, m.differences
            FROM {ImportRow._meta.db_table} s
            LEFT JOIN {ImportMatch._meta.db_table} m ON m.batch_id = s.batch_id AND m.line = s.line
            WHERE s.batch_id = %s ORDER BY s.line
        """, [batch.pk])
        while block := cursor.fetchmany(CHUNK):
            for line, outcome, name, id_masked, phone_masked, grid_code, errors, differences in block:
                # A masked ID or phone keeps what a bad row typed at its start ("=cmd|…"): defused too.
                yield [str(line), labels[outcome], defuse(name), defuse(id_masked), defuse(phone_masked),
                       defuse(grid_code),
                       defuse("; ".join(_json(errors) or [])), defuse(describe_differences(_json(differences)))]


class _Echo:
    def write(self, value):
        return value


def csv_lines(batch: ImportBatch) -> Iterator[str]:
    """The CSV report line by line, for a streaming response or a file."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(columns(batch))
    for values in rows(batch):
        yield writer.writerow(values)


def write_csv_to(batch: ImportBatch, out: BinaryIO) -> None:
    for line in csv_lines(batch):
        out.write(line.encode())


def write_csv(batch: ImportBatch, path: Path) -> Path:
    with open(path, "wb") as out:
        write_csv_to(batch, out)
    return path


def write_xlsx(batch: ImportBatch, path: Path | BinaryIO) -> Path | BinaryIO:
    """To a path or a binary file."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Reconciliation"))
    sheet.append(columns(batch))
    for values in rows(batch):
        values[0] = int(values[0])
        sheet.append(values)
    workbook.save(path)
    return path


def write_reports(batch: ImportBatch, directory: Path, stem: str | None = None) -> tuple[Path, Path]:
    """Both reports side by side: ``<stem>.xlsx`` and ``<stem>.csv``."""
    directory.mkdir(parents=True, exist_ok=True)
    stem = stem or f"{Path(batch.file_name).stem}-import-{batch.pk}"
    return write_xlsx(batch, directory / f"{stem}.xlsx"), write_csv(batch, directory / f"{stem}.csv")


def report_file_name(batch: ImportBatch, extension: str) -> str:
    return f"{os.path.splitext(batch.file_name)[0]}-import-{batch.pk}.{extension}"
