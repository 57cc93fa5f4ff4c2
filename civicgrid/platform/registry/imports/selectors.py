"""Import batches, scoped to the actor: the county admin and the command centre see
every batch of the tenant; everyone else sees none (and gets 404)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from civicgrid.platform.accounts.staff.models import StaffProfile, StaffRole
from civicgrid.platform.org.models import Department

from .models import PERSONS, ImportBatch, ImportMatch, ImportRecord, ImportRow, Outcome

IMPORT_ROLES = (StaffRole.COUNTY_ADMIN, StaffRole.COMMAND_OPERATOR)


def can_import(staff: StaffProfile | None) -> bool:
    return staff is not None and staff.is_active and staff.role in IMPORT_ROLES


def batches_for(staff: StaffProfile | None) -> QuerySet[ImportBatch]:
    batches = ImportBatch.objects.select_related("department")
    return batches if can_import(staff) else batches.none()


def access_batch(staff: StaffProfile | None, pk) -> ImportBatch:
    """A batch of this tenant the member may open; one that fills the registry of a module
    switched off here is not found, like the module's own pages."""
    from .targets import plugin_targets

    try:
        batch = batches_for(staff).get(pk=pk)
    except (ImportBatch.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
    if batch.target != PERSONS and batch.target not in plugin_targets():
        raise Http404
    return batch


def source_departments() -> QuerySet[Department]:
    return Department.objects.filter(is_active=True).order_by("code")


def staged_rows(batch: ImportBatch) -> QuerySet[ImportRow]:
    return ImportRow.objects.filter(batch_id=batch.pk).order_by("line")


def problem_rows(batch: ImportBatch, limit: int = 100) -> list[ImportRow] | list[ImportRecord]:
    """What the batch page shows first: bad rows (with ``errors``), else conflicts
    (with ``differences``); for a plugin's registry, else the updated records."""
    if batch.target != PERSONS:
        outcome = Outcome.BAD if batch.bad_rows else Outcome.UPDATED
        return list(ImportRecord.objects.filter(batch_id=batch.pk, outcome=outcome).order_by("line")[:limit])
    if batch.bad_rows:
        return list(staged_rows(batch).filter(outcome=Outcome.BAD)[:limit])
    matches = {m.line: m for m in ImportMatch.objects.filter(batch_id=batch.pk, outcome=Outcome.CONFLICTING)
               .order_by("line")[:limit]}
    rows = list(staged_rows(batch).filter(line__in=list(matches)))
    for row in rows:
        row.differences = matches[row.line].differences
    return rows
