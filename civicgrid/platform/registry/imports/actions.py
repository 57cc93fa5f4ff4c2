"""Importing a department's file into the registry: persons, or a plugin's
registry (``targets``: fire-risk units, food businesses, schools …).

``open_batch`` refuses at once what cannot be imported (empty file, unreadable
text); ``queue_import`` / ``map_columns`` check the column mapping;
``run_import`` stages and validates every row, then either rejects the batch
(any bad row: nothing applied) or applies new and updated persons in one
transaction with one audit row. Every entry point (console, task, command line)
calls these.
"""

from __future__ import annotations

import logging
import os
import uuid
from contextlib import contextmanager
from typing import BinaryIO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.http import Http404
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from civicgrid.platform.accounts.staff.models import StaffProfile
from civicgrid.platform.audit.actions import record

from . import bulk, pipeline, reading, records, targets
from .models import PERSONS, ImportBatch, Outcome
from .progress import Reporter
from .selectors import can_import, source_departments

logger = logging.getLogger(__name__)
STORAGE_FOLDER = "registry-imports"
# Big files are applied while they are read (``bulk``); the benchmark turns this off
# to time the ordinary path (stage everything, then match and apply) side by side.
APPLY_WHILE_READING = True


def _actor(batch: ImportBatch):
    from civicgrid.platform.accounts.models import User

    return User.objects.filter(pk=batch.created_by_id).first() if batch.created_by_id else None


def _require_importer(staff: StaffProfile | None) -> None:
    """``None`` is the command line run without ``--as``: the operator of the machine."""
    if staff is not None and not can_import(staff):
        raise Http404


def open_batch(*, staff: StaffProfile | None, department_code: str, file_name: str,
               upload: BinaryIO | None = None, path: str | None = None, target: str = PERSONS) -> ImportBatch:
    """A batch for an uploaded file (kept in the tenant's storage) or a local file
    (command line). Refuses, creating nothing, a file that is empty or unreadable,
    or a ``target`` this tenant cannot import into."""
    _require_importer(staff)
    targets.plugin_target(target)
    department = source_departments().filter(code=(department_code or "").strip()).first()
    if department is None:
        raise ValidationError(_("There is no active department with the code %(code)s.")
                              % {"code": department_code}, code="department")
    if path is not None:
        with open(path, "rb") as stream:
            layout = reading.inspect(stream, file_name)
        size, stored, in_storage = os.path.getsize(path), os.path.abspath(path), False
    else:
        layout = reading.inspect(upload, file_name)
        upload.seek(0)
        size = getattr(upload, "size", None) or _size(upload)
        stored = default_storage.save(f"{STORAGE_FOLDER}/{uuid.uuid4().hex}/{_safe_name(file_name)}", upload)
        in_storage = True
    return ImportBatch.objects.create(
        department=department, created_by=staff.user if staff else None,
        created_by_label=staff.user.username if staff else "", file_name=file_name[:255], file_path=stored,
        file_in_storage=in_storage, file_size=size, file_format=layout.format, encoding=layout.encoding,
        header=layout.header, language=translation.get_language() or "", target=target,
    )


def _size(stream: BinaryIO) -> int:
    stream.seek(0, os.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    return size


def _safe_name(name: str) -> str:
    base = os.path.basename(name.replace("\\", "/")) or "upload"
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in base)[-100:]


def check_mapping(batch: ImportBatch, column_mapping: dict[str, str]) -> dict[str, str]:
    """The mapping cleaned (ignored columns dropped), or every problem with it at once."""
    errors, clean, seen = [], {}, {}
    fields = dict(targets.fields(batch.target))
    for column, field in column_mapping.items():
        if not field:
            continue
        if column not in batch.header:
            errors.append(_("The file has no column %(column)s.") % {"column": column})
        elif batch.header.count(column) > 1:
            errors.append(_("The column %(column)s appears more than once in the header.") % {"column": column})
        if field not in fields:
            errors.append(_("%(field)s is not something a column can be imported as.") % {"field": field})
            continue
        if field in seen:
            errors.append(_("%(field)s is mapped to more than one column.") % {"field": fields[field]})
        seen[field] = column
        clean[column] = field
    for field, label in targets.required(batch.target):
        if field not in seen:
            errors.append(_("Map a column to %(field)s.") % {"field": label})
    if errors:
        raise ValidationError(errors, code="mapping")
    return clean


def map_columns(*, staff: StaffProfile | None, batch: ImportBatch, column_mapping: dict[str, str]) -> ImportBatch:
    _require_importer(staff)
    if batch.status != ImportBatch.Status.UPLOADED:
        raise ValidationError(_("This import has already started."), code="started")
    batch.column_mapping = check_mapping(batch, column_mapping)
    batch.save(update_fields=["column_mapping"])
    return batch


def queue_import(*, staff: StaffProfile | None, batch: ImportBatch, column_mapping: dict[str, str]) -> ImportBatch:
    """Check the mapping now (so the page can answer at once); the work runs in a task."""
    with transaction.atomic():
        batch = map_columns(staff=staff, batch=batch, column_mapping=column_mapping)
        batch.status = ImportBatch.Status.QUEUED
        batch.save(update_fields=["status"])
        Reporter(batch.pk).phase("queued")
        transaction.on_commit(lambda: send_import(batch.pk))
    return batch


def send_import(batch_id: int) -> None:
    """Ask a worker to run a queued batch. With the broker down (or a Redis that lost its
    queue) the batch stays queued and beat's ``resend_queued_imports`` sends it again; a
    worker that finds it finished or running elsewhere does nothing."""
    from .tasks import run_import_batch

    try:
        run_import_batch.apply_async(args=[batch_id], retry=False)
    except Exception:  # the page answers "queued" all the same: the batch is kept
        logger.warning("registry import %s: the broker is unavailable; sent again later", batch_id, exc_info=True)


@contextmanager
def _opened(batch: ImportBatch):
    if batch.file_in_storage:
        with default_storage.open(batch.file_path, "rb") as stream:
            yield stream
    else:
        with open(batch.file_path, "rb") as stream:
            yield stream


def run_import(*, batch: ImportBatch, progress=None) -> ImportBatch:
    """Carry out a mapped batch. A finished batch is left as it is.

    ``progress(phase, done, total)`` hears every step (the command line's bar);
    the console reads the same through ``progress.read``.
    """
    if batch.is_finished:
        return batch
    if not batch.column_mapping:
        raise ValidationError(_("Map the file's columns first."), code="mapping")
    with _claimed(batch) as ours:
        if not ours:  # a redelivered task while the first run still works on it
            logger.info("registry import %s is being run elsewhere", batch.pk)
            return batch
        batch.refresh_from_db()
        if batch.is_finished:
            return batch
        return _run(batch, progress)


@contextmanager
def _claimed(batch: ImportBatch):
    """One run of a batch at a time, across processes: a session lock of the database, which
    goes with the connection of a worker that dies (its redelivered task may then run it)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(hashtext(current_schema() || ':import-batch'), %s)",
                       [batch.pk % 2**31])
        ours = cursor.fetchone()[0]
    try:
        yield ours
    finally:
        if ours:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(hashtext(current_schema() || ':import-batch'), %s)",
                               [batch.pk % 2**31])


def _run(batch: ImportBatch, progress) -> ImportBatch:
    reporter = Reporter(batch.pk, also=progress)
    batch.status, batch.started_at, batch.error = ImportBatch.Status.RUNNING, timezone.now(), ""
    batch.save(update_fields=["status", "started_at", "error"])
    try:
        with translation.override(batch.language or settings.LANGUAGE_CODE):
            with _opened(batch) as stream:
                layout = reading.inspect(stream, batch.file_name)
                missing = [c for c in batch.column_mapping if c not in layout.header]
                if missing:
                    raise ValidationError(_("The file has no column %(column)s.") % {"column": missing[0]})
                reporter.phase("reading", 0, batch.file_size)
                target = targets.plugin_target(batch.target)
                if target is not None:
                    _run_records(batch, stream, layout, target, reporter)
                    staged = None
                elif APPLY_WHILE_READING and pipeline.use_pool(batch.file_size):
                    staged = _stage_and_apply(batch, stream, layout, reporter)
                else:
                    staged = pipeline.stage(batch, stream, layout, reporter.reading)
            if staged is not None:
                _check_and_apply(batch, staged, reporter)
    except Exception as exc:
        logger.exception("registry import %s failed", batch.pk)
        pipeline.discard_rows(batch.pk)
        records.discard(batch.pk)
        batch.status, batch.finished_at = ImportBatch.Status.FAILED, timezone.now()
        batch.error = "; ".join(exc.messages) if isinstance(exc, ValidationError) else (
            _("The import failed and nothing was applied: %(error)s") % {"error": exc})
        batch.save(update_fields=["status", "finished_at", "error"])
        record(action="registry.import_failed", actor=_actor(batch), target=batch,
               department=batch.department.code, error=batch.error[:500])
    reporter.phase("done", batch.total_rows, batch.total_rows)
    return batch


def _run_records(batch: ImportBatch, stream, layout, target, reporter: Reporter) -> None:
    """A plugin's registry: check every row, then reject the batch or apply it whole."""
    staged = records.stage(batch, stream, layout, target, reporter.reading)
    if staged.bad:
        with transaction.atomic():
            _set_counts(batch, records.outcome_counts(batch))
            _reject(batch)
        return
    with transaction.atomic():
        records.lock(target)
        reporter.phase("matching")
        new, changed = records.classify(batch, target)
        reporter.phase("applying")
        records.apply(target, new, changed, actor=_actor(batch))
        _set_counts(batch, records.outcome_counts(batch))
        _applied(batch)


class _Stopped(Exception):
    """Rolls back an overlapped apply; carries what was staged."""

    def __init__(self, staged: pipeline.Staged):
        self.staged = staged


def _stage_and_apply(batch: ImportBatch, stream, layout, reporter: Reporter) -> pipeline.Staged | None:
    """A big file: apply each chunk while the next ones are read (``bulk``).
    None once applied; what was staged when a bad row or a repeated ID number
    stopped it, the transaction rolled back, for the ordinary path to decide."""
    applier = bulk.OverlappedApply(batch)
    try:
        with transaction.atomic():
            pipeline.more_memory_for_this_transaction()
            pipeline.lock_registry_imports()
            staged = pipeline.stage_overlapped(batch, stream, layout, reporter.reading, applier)
            if applier.stopped:
                raise _Stopped(staged)
            reporter.phase("applying")
            applier.finish()
            _finish_apply(batch)
    except _Stopped as stop:
        return stop.staged
    return None


def _check_and_apply(batch: ImportBatch, staged: pipeline.Staged, reporter: Reporter) -> None:
    bad_rows = staged.bad
    if staged.repeated_ids:
        reporter.phase("checking")
        with transaction.atomic():
            pipeline.more_memory_for_this_transaction()
            bad_rows += pipeline.mark_duplicates(batch)
    if bad_rows:
        _reject(batch)
    else:  # also after a false alarm of the repeat watch (two IDs sharing 64 bits of their index)
        _apply(batch, reporter)


def _set_counts(batch: ImportBatch, counts: dict[str, int] | None = None) -> dict[str, int]:
    counts = pipeline.outcome_counts(batch) if counts is None else counts
    batch.bad_rows = counts[Outcome.BAD]
    batch.new_rows = counts[Outcome.NEW]
    batch.updated_rows = counts[Outcome.UPDATED]
    batch.unchanged_rows = counts[Outcome.UNCHANGED]
    batch.conflicting_rows = counts[Outcome.CONFLICTING]
    batch.total_rows = sum(counts.values())
    return counts


COUNT_FIELDS = ["total_rows", "bad_rows", "new_rows", "updated_rows", "unchanged_rows", "conflicting_rows"]


def _reject(batch: ImportBatch) -> None:
    with transaction.atomic():
        if batch.target == PERSONS:
            _set_counts(batch)
        batch.new_rows = 0  # good rows of a rejected batch are not applied: not "new"
        batch.status, batch.finished_at = ImportBatch.Status.REJECTED, timezone.now()
        batch.save(update_fields=["status", "finished_at", *COUNT_FIELDS])
        record(action="registry.import_rejected", actor=_actor(batch), target=batch,
               department=batch.department.code, file=batch.file_name, counts=batch.counts(),
               imported=batch.target)


def _apply(batch: ImportBatch, reporter: Reporter) -> None:
    with transaction.atomic():
        pipeline.more_memory_for_this_transaction()
        pipeline.lock_registry_imports()
        reporter.phase("matching")
        pipeline.classify(batch)
        counts = pipeline.outcome_counts(batch)
        reporter.phase("applying")
        pipeline.apply(batch, counts)
        _finish_apply(batch)


def _finish_apply(batch: ImportBatch) -> None:
    """Inside the batch's transaction, once every good row is matched and every new person is in."""
    pipeline.fill_registry_phones(batch)
    counts = _set_counts(batch)
    if counts[Outcome.UPDATED]:
        pipeline.update_changed_persons(batch)
    _applied(batch)


def _applied(batch: ImportBatch) -> None:
    batch.status, batch.finished_at = ImportBatch.Status.APPLIED, timezone.now()
    batch.save(update_fields=["status", "finished_at", *COUNT_FIELDS])
    record(action="registry.import_applied", actor=_actor(batch), target=batch,
           department=batch.department.code, file=batch.file_name, counts=batch.counts(), imported=batch.target)


def discard_batch(*, staff: StaffProfile | None, batch: ImportBatch) -> None:
    """Forget a batch: its staged rows, its stored file and the batch itself (the
    registry keeps what was applied; the audit trail keeps that it was)."""
    _require_importer(staff)
    with transaction.atomic():
        pipeline.discard_rows(batch.pk)
        records.discard(batch.pk)
        if batch.file_in_storage and batch.file_path:
            transaction.on_commit(lambda: default_storage.delete(batch.file_path))
        batch.delete()
