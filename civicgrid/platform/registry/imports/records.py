"""Importing into a plugin's registry (``ImportTarget``): the same batch, mapping,
progress, reasons, reconciliation report and all-or-nothing rule as persons, with
the row checks and the writes supplied by the plugin.

Each row is read, its mapped cells checked for what no registry can hold (NUL
bytes, huge cells), then given to ``target.clean``; a key seen twice in one file
is a bad row. Then, if no row is bad, the rows are matched with ``target.current``
(new, updated with its differences, or unchanged) and ``target.apply`` writes the
new and changed ones, in the batch's transaction. The same file twice changes
nothing the second time.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.utils.translation import gettext as _

from civicgrid.platform.org.models import OrgUnit
from civicgrid.plugins.manager import call_as_plugin
from civicgrid.plugins.types import ImportTarget

from . import reading
from .models import ImportBatch, ImportRecord, Outcome

BLOCK_ROWS = 1000
MAX_CELL_CHARS = 1000  # no field of a registry is longer; a bigger cell is a mistake in the file
UNSTORABLE = {"\x00"}  # PostgreSQL text cannot hold it


class RowContext:
    """What ``target.clean`` may look up for a row (loaded once per batch)."""

    def __init__(self):
        self._grids: dict[str, int] | None = None

    def grid_id(self, code: str) -> int | None:
        if self._grids is None:
            self._grids = dict(OrgUnit.objects.filter(level=OrgUnit.Level.GRID).values_list("code", "id"))
        return self._grids.get((code or "").strip())


@dataclass
class Staged:
    total: int
    bad: int


def _plain(values) -> object:
    """Clean values as JSON holds them (dates as ISO text, decimals as text), so what the
    file says and what the registry holds compare equal when they mean the same."""
    return json.loads(json.dumps(values, cls=DjangoJSONEncoder, sort_keys=True))


def _reasons(error: ValidationError, labels: dict[str, str]) -> list[str]:
    if hasattr(error, "error_dict"):
        return [f"{labels.get(field, field)}: {message}" for field, errors in error.message_dict.items()
                for message in errors]
    return list(error.messages)


def _plugin_of(target: ImportTarget) -> str:
    return target.code.split(".", 1)[0]


def _cells(batch: ImportBatch, layout: reading.FileLayout, cells: list[str]) -> dict[str, str]:
    index = {column: i for i, column in enumerate(layout.header)}
    return {field: (cells[index[column]] if index[column] < len(cells) else "").strip()
            for column, field in batch.column_mapping.items()}


class _Refused(Exception):
    def __init__(self, error: ValidationError):
        self.error = error


def _clean_raising(target: ImportTarget, values: dict, context: RowContext):
    # call_as_plugin logs and swallows a plugin's exceptions; a ValidationError is an answer, not a fault.
    try:
        return target.clean(dict(values), context)
    except ValidationError as exc:
        return _Refused(exc)


def check_row(target: ImportTarget, values: dict[str, str], context: RowContext) -> tuple[dict | None, list[str]]:
    """(clean values, []) for a good row, (None, reasons) for a bad one."""
    labels = {field.name: str(field.label) for field in target.fields}
    reasons = []
    for name, text in values.items():
        if any(character in text for character in UNSTORABLE):
            reasons.append(_("%(field)s: contains a character that cannot be stored (NUL).")
                           % {"field": labels.get(name, name)})
        elif len(text) > MAX_CELL_CHARS:
            reasons.append(_("%(field)s: longer than %(limit)s characters.")
                           % {"field": labels.get(name, name), "limit": MAX_CELL_CHARS})
    if reasons:
        return None, reasons
    if not values.get(target.key):
        return None, [_("%(field)s: this is required.") % {"field": labels.get(target.key, target.key)}]
    clean = call_as_plugin(_plugin_of(target), _clean_raising, target, values, context)
    if isinstance(clean, _Refused):
        return None, _reasons(clean.error, labels)
    if clean is None:  # the plugin's check itself failed (logged): the row cannot be trusted
        return None, [_("This row could not be checked; nothing was applied. Tell your administrator.")]
    return _plain(clean), []


def stage(batch: ImportBatch, stream: BinaryIO, layout: reading.FileLayout, target: ImportTarget,
          progress) -> Staged:
    """Check every row and keep it in ``ImportRecord``; bad rows carry their reasons."""
    ImportRecord.objects.filter(batch_id=batch.pk).delete()
    context, seen = RowContext(), {}
    total = bad = 0
    block: list[ImportRecord] = []
    for line, cells, position in _rows(stream, layout):
        values = _cells(batch, layout, cells)
        clean, reasons = check_row(target, values, context)
        key = str((clean or {}).get(target.key, values.get(target.key, "")))[:MAX_CELL_CHARS]
        if clean is not None and key in seen:
            clean, reasons = None, [_("The same %(field)s as line %(line)s.")
                                    % {"field": _key_label(target), "line": seen[key]}]
        seen.setdefault(key, line)
        bad += clean is None
        total += 1
        block.append(ImportRecord(batch_id=batch.pk, line=line, key=key, cells=_plain(values), values=clean,
                                  errors=reasons or None, outcome=Outcome.BAD if clean is None else Outcome.NEW))
        if len(block) >= BLOCK_ROWS:
            ImportRecord.objects.bulk_create(block)
            block = []
            progress(position or total, batch.file_size or total)
    ImportRecord.objects.bulk_create(block)
    progress(batch.file_size, batch.file_size)
    return Staged(total, bad)


def _rows(stream, layout) -> Iterator[tuple[int, list[str], int]]:
    for line, cells, position in reading.records(stream, layout):
        if any(cell.strip() for cell in cells):  # a blank line is no row
            yield line, cells, position


def _key_label(target: ImportTarget) -> str:
    return next((str(f.label) for f in target.fields if f.name == target.key), target.key)


def lock(target: ImportTarget) -> None:
    """One batch applies at a time per registry and tenant: two at once could both see a record as new."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(current_schema() || ':import:' || %s))", [target.code])


def classify(batch: ImportBatch, target: ImportTarget) -> tuple[list[dict], list[dict]]:
    """Mark each good row new, updated (with its differences) or unchanged; return (new, changed)."""
    new, changed, marked = [], [], []
    staged = ImportRecord.objects.filter(batch_id=batch.pk).order_by("line")
    for start in range(0, staged.count(), BLOCK_ROWS):
        block = list(staged[start:start + BLOCK_ROWS])
        held = call_as_plugin(_plugin_of(target), target.current, [r.key for r in block])
        if held is None:
            raise ValidationError(_("The module could not read its registry; nothing was applied."))
        held = {str(key): _plain(values) for key, values in held.items()}
        for record in block:
            before = held.get(record.key)
            if before is None:
                new.append(record.values)
                continue
            differences = {name: [before.get(name), value] for name, value in record.values.items()
                           if before.get(name) != value}
            record.outcome = Outcome.UPDATED if differences else Outcome.UNCHANGED
            record.differences = differences or None
            marked.append(record)
            if differences:
                changed.append(record.values)
    ImportRecord.objects.bulk_update(marked, ["outcome", "differences"], batch_size=BLOCK_ROWS)
    return new, changed


def apply(target: ImportTarget, new: list[dict], changed: list[dict], *, actor) -> None:
    if not new and not changed:
        return
    # Not through call_as_plugin: a failed write must roll the whole batch back, not be skipped.
    target.apply(new, changed, actor=actor)


def outcome_counts(batch: ImportBatch) -> dict[str, int]:
    from django.db.models import Count

    counts = {outcome: 0 for outcome in Outcome.values}
    for row in ImportRecord.objects.filter(batch_id=batch.pk).values("outcome").annotate(n=Count("line")):
        counts[row["outcome"]] = row["n"]
    return counts


def discard(batch_id: int) -> None:
    ImportRecord.objects.filter(batch_id=batch_id).delete()
