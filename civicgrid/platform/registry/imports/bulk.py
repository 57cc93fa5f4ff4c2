"""Applying a large file while it is still being read.

``OverlappedApply`` inserts each staged chunk inside the batch's transaction
as soon as the chunk is in, so the database inserts one chunk while the worker
processes check the next ones. Any bad row or repeated ID number stops it; the
caller then rolls the transaction back and takes the ordinary path (reject, or
apply after a false alarm), so no partial garbage ever lands.

``SecondaryIndexes`` is what a bulk loader does when a file is at least as big
as the registry it goes into (a county's first import): the person table's
secondary indexes and foreign keys are dropped inside that transaction and
rebuilt once at the end, which costs a sort per index instead of a million
random index insertions and a million deferred foreign-key checks. The table
is locked against readers until the import commits; if the lock is not free
within ``LOCK_WAIT`` the import goes on without it, only slower.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import OperationalError, connection, transaction

from . import pipeline, validation
from .models import ImportBatch

logger = logging.getLogger(__name__)

# Below this many expected rows, maintaining the indexes row by row is cheap enough.
BULK_MIN_ROWS = 100_000
LOCK_WAIT = "2s"


class SecondaryIndexes:
    """Drop a table's indexes and constraints but its primary key now; put the same
    ones back later (a unique constraint rebuilt checks every row once more)."""

    def __init__(self, table: str):
        self.table = table
        self.indexes: list[tuple[str, str]] = []  # (name, CREATE INDEX …)
        self.constraints: list[tuple[str, str]] = []  # (name, UNIQUE … / FOREIGN KEY … definition)

    def drop(self) -> bool:
        """Inside a savepoint: either everything is dropped or nothing is."""
        qn = connection.ops.quote_name
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT set_config('lock_timeout', %s, true)", [LOCK_WAIT])
                cursor.execute(f"LOCK TABLE {qn(self.table)} IN ACCESS EXCLUSIVE MODE")
                cursor.execute("SELECT set_config('lock_timeout', '0', true)")
                cursor.execute("""
                    SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i
                    JOIN pg_class c ON c.oid = i.indexrelid
                    WHERE i.indrelid = %s::regclass AND NOT i.indisunique AND NOT i.indisprimary
                    ORDER BY c.relname
                """, [self.table])
                indexes = cursor.fetchall()
                cursor.execute("""
                    SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
                    WHERE conrelid = %s::regclass AND contype IN ('u', 'f')
                    ORDER BY contype DESC, conname  -- unique first when put back
                """, [self.table])
                constraints = cursor.fetchall()
                for name, _definition in constraints:
                    cursor.execute(f"ALTER TABLE {qn(self.table)} DROP CONSTRAINT {qn(name)}")
                for name, _definition in indexes:
                    cursor.execute(f"DROP INDEX {qn(name)}")
        except OperationalError:  # the lock was not free in time: readers are busy
            logger.info("registry import: %s is busy; inserting with its indexes in place", self.table)
            return False
        self.indexes, self.constraints = indexes, constraints
        return True

    def restore(self) -> None:
        qn = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            for _name, definition in self.indexes:
                cursor.execute(definition)
            # Adding a foreign key checks every row with one join, not a trigger per row.
            for name, definition in self.constraints:
                cursor.execute(f"ALTER TABLE {qn(self.table)} ADD CONSTRAINT {qn(name)} {definition}")
        self.indexes, self.constraints = [], []


def registry_rows() -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {pipeline.PERSONS}")
        return cursor.fetchone()[0]


@dataclass
class OverlappedApply:
    """``stage_overlapped``'s ``on_chunk``. The first good chunk decides: when the
    file brings at least as many new persons as the registry holds, each chunk
    is matched and applied as it comes (``per_chunk``); otherwise everything is
    matched at the end with one join (``apply_rest``), which is cheaper when
    most rows are already known (a re-import)."""

    batch: ImportBatch
    stopped: bool = False  # a bad row or a repeated ID number: the caller must roll back
    per_chunk: bool | None = None  # None until the first good chunk
    indexes: SecondaryIndexes | None = None
    registry_rows: int = 0  # persons before the first chunk

    def __call__(self, chunk: validation.Chunk, watch, done: int, total: int) -> None:
        if self.stopped:
            return
        if chunk.bad or watch.repeated:
            self.stopped = True
            return
        if not chunk.rows or self.per_chunk is False:
            return
        lines = (chunk.first_line, chunk.last_line)
        if self.per_chunk is None:
            self._decide(chunk, lines, done, total)
            if not self.per_chunk:
                return
        if self.registry_rows:  # an empty registry (a first import) matches nothing
            pipeline.classify(self.batch, lines)
        pipeline.apply(self.batch, lines=lines)

    def _decide(self, chunk: validation.Chunk, lines: pipeline.Lines, done: int, total: int) -> None:
        self.registry_rows = registry_rows()
        # ``total`` is the file's size in bytes for CSV (0 for XLSX, whose rows are
        # unknown); the first chunk tells how many rows a byte holds and how many are new.
        known = pipeline.known_rows(self.batch, lines) if self.registry_rows else 0
        expected_new = int(total / done * (chunk.rows - known)) if total and done else 0
        self.per_chunk = expected_new >= self.registry_rows and expected_new > 0
        if self.per_chunk and expected_new >= BULK_MIN_ROWS:
            indexes = SecondaryIndexes(pipeline.PERSONS)
            if indexes.drop():
                self.indexes = indexes

    def finish(self) -> None:
        """Once every chunk is in and none stopped it."""
        if not self.per_chunk:
            pipeline.classify(self.batch)
            pipeline.apply(self.batch, pipeline.outcome_counts(self.batch))
        if self.indexes is not None:
            self.indexes.restore()
            self.indexes = None
