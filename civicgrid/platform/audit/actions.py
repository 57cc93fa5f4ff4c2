"""Writing the audit trail. Actions call ``record``; nothing else writes audit rows."""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import archives, chain, verify
from .models import AuditEntry


def record(*, action: str, actor=None, target: models.Model | None = None, purpose: str = "", **data) -> AuditEntry:
    """Append one audit row in the current schema (public for province actions), chained
    to the last one. The append lock is held until the caller's transaction ends."""
    # No savepoint: inside the caller's transaction this adds no statements of its own.
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        prev_hash = chain.lock_and_read_tail(cursor)
        entry = AuditEntry(
            # Stamped under the lock, so time order is chain order (archiving cuts by time).
            at=timezone.now(),
            actor_id=getattr(actor, "pk", None),
            actor_label=str(getattr(actor, "username", "") or "system"),
            action=action,
            target_type=target._meta.label_lower if target is not None else "",
            target_id=str(target.pk) if target is not None else "",
            purpose=purpose,
            data=chain.as_stored(data, cursor),
            prev_hash=prev_hash,
        )
        entry.row_hash = chain.row_hash(vars(entry))
        entry.save(force_insert=True)
    return entry


# Retention: nothing younger than about six months ever leaves the table.
MINIMUM_RETENTION_DAYS = 183


@dataclass
class ArchiveResult:
    count: int
    archive: str = ""
    manifest: str = ""
    last_hash: str = ""


def archive_before(*, before: datetime.date, acting_user=None, purpose: str = "",
                   progress: Callable[[int, int], None] | None = None) -> ArchiveResult:
    """Move the rows of the current schema written before ``before`` (local midnight) to
    an archive in the tenant's storage, then delete them, and record an ``audit.archive``
    row naming the archive and the last archived hash, from which the chain goes on.

    Refuses a date less than six months ago, and a chain that does not verify (archiving
    must not launder a tampered row). Holds the append lock throughout, so nothing is
    written meanwhile; the archive files are written before the rows are deleted."""
    _check_retention(before)
    cutoff = timezone.make_aware(datetime.datetime.combine(before, datetime.time.min))
    with transaction.atomic(), connection.cursor() as cursor:
        chain.lock_and_read_tail(cursor)
        # The rows before the first one written on or after the date: a prefix of the chain.
        # The newest row always stays, so the chain in the table keeps a tail to go on from.
        cursor.execute("SELECT coalesce(max(id), 0) FROM audit_auditentry WHERE id < coalesce("
                       "(SELECT min(id) FROM audit_auditentry WHERE at >= %s), 9223372036854775807) "
                       "AND id < (SELECT max(id) FROM audit_auditentry)", [cutoff])
        last_id = cursor.fetchone()[0]
        if not last_id:
            return ArchiveResult(count=0)
        first = verify.anchor_hash()
        checked = verify.verify_rows(prev_hash=first, limit=None, progress=None, up_to_id=last_id)
        if not checked.ok:
            raise ValidationError(
                _("The audit chain is broken at row %(id)s; nothing was archived. Run the verification first.")
                % {"id": checked.broken_id})
        written = _write_archive(cursor, first=first, last_id=last_id, count=checked.checked, before=before,
                                 progress=progress)
        cursor.execute("SELECT set_config('civicgrid.audit_archive', %s, true)", [written.name])
        cursor.execute("DELETE FROM audit_auditentry WHERE id <= %s", [last_id])
        cursor.execute("SELECT set_config('civicgrid.audit_archive', '', true)")
        record(action=verify.ARCHIVE_ACTION, actor=acting_user, purpose=purpose, archive=written.name,
               manifest=written.manifest_name, before=before.isoformat(), count=checked.checked,
               first_id=checked.first_id, last_id=last_id, first_hash=written.manifest["first_hash"],
               last_hash=checked.last_hash, file_sha256=written.manifest["file_sha256"])
    return ArchiveResult(count=checked.checked, archive=written.name, manifest=written.manifest_name,
                         last_hash=checked.last_hash)


def _check_retention(before: datetime.date) -> None:
    today = timezone.localdate()
    if before > today - datetime.timedelta(days=MINIMUM_RETENTION_DAYS):
        raise ValidationError(
            _("Audit rows are kept at least six months: the date must be on or before %(date)s.")
            % {"date": (today - datetime.timedelta(days=MINIMUM_RETENTION_DAYS)).isoformat()})


def _write_archive(cursor, *, first: str, last_id: int, count: int, before, progress) -> archives.WrittenArchive:
    previous_manifest = (verify.newest_archive() or {}).get("manifest", "")
    spool = archives.spool()
    done, first_hash, last_hash, first_id = 0, "", "", None
    for rows in verify.row_batches(cursor, after_id=0, up_to_id=last_id):
        for row in rows:
            row["data"] = _json(row["data"])
            spool.write(archives.line_of(row))
            first_hash, first_id = first_hash or row["row_hash"], first_id or row["id"]
            last_hash = row["row_hash"]
        done += len(rows)
        if progress:
            progress(done, count)
    stem = f"{connection.schema_name}-{first_id}-{last_id}"
    return archives.write(stem=stem, lines_file=spool, manifest={
        "schema": connection.schema_name, "before": before.isoformat(), "count": done,
        "first_id": first_id, "last_id": last_id, "prev_hash": first, "first_hash": first_hash,
        "last_hash": last_hash, "previous_manifest": previous_manifest,
        "created_at": chain.utc_iso(timezone.now()),
    })


def _json(value):
    return json.loads(value) if isinstance(value, str) else value
