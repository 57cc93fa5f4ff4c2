"""The set-based work of an import: staging with COPY, then finding duplicates,
matching, and applying with one SQL statement each. No per-row ORM work.

The caller (``actions.run_import``) owns the transactions and the audit row.
"""

from __future__ import annotations

import multiprocessing
import threading
from array import array
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from typing import BinaryIO, NamedTuple

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.utils.translation import gettext as _

from civicgrid.platform.org.models import OrgUnit
from civicgrid.platform.registry import protection
from civicgrid.platform.registry.models import Household, Person

from . import reading, validation
from .headers import RESIDENCE_VALUES
from .models import Field, ImportBatch, ImportMatch, ImportRow, Outcome

ROWS = ImportRow._meta.db_table
MATCHES = ImportMatch._meta.db_table
PERSONS = Person._meta.db_table
HOUSEHOLDS = Household._meta.db_table
UNITS = OrgUnit._meta.db_table
WORKERS = 2
# Below this a pool costs more than it saves (and tests stay single-process).
POOL_MIN_BYTES = 4 << 20
WINDOW = 2 * WORKERS  # blocks in flight: enough to keep every worker busy, little memory

Progress = Callable[[int, int], None]


def rules_for(batch: ImportBatch, layout: reading.FileLayout) -> validation.RowRules:
    index = {text: i for i, text in enumerate(layout.header)}
    residences = {spelling.casefold(): value for spelling, value in RESIDENCE_VALUES.items()}
    for value, label in Person.Residence.choices:
        residences.setdefault(str(label).casefold(), value)
    return validation.RowRules(
        batch_id=batch.pk,
        columns={field: index[column] for column, field in batch.column_mapping.items()},
        width=len(layout.header),
        grids=dict(OrgUnit.objects.filter(level=OrgUnit.Level.GRID).values_list("code", "id")),
        residences=residences,
        max_lengths={
            Field.NAME: Person._meta.get_field("name").max_length,
            Field.REGISTERED_ADDRESS: Person._meta.get_field("registered_address").max_length,
            Field.ACTUAL_ADDRESS: Person._meta.get_field("actual_address").max_length,
            Field.HOUSEHOLD: Household._meta.get_field("number").max_length,
        },
        language=batch.language,
        delimiter=layout.delimiter,
    )


def use_pool(size: int) -> bool:
    # Celery's prefork children are daemons, and daemons may not have children.
    return size >= POOL_MIN_BYTES and not multiprocessing.current_process().daemon


def _encoded(jobs: Iterable, worker_fn, serial_fn, rules, pooled: bool) -> Iterator:
    """Results of ``worker_fn`` over ``jobs`` in order, at most WINDOW in flight."""
    if not pooled:
        encoder = validation.RowEncoder(rules)
        for job in jobs:
            yield serial_fn(encoder, job)
        return
    # fork: the workers inherit settings and keys; they never touch the database.
    with multiprocessing.get_context("fork").Pool(WORKERS, validation.start_worker, (rules,)) as pool:
        pending: deque = deque()
        for job in jobs:
            pending.append(pool.apply_async(worker_fn, (job,)))
            if len(pending) >= WINDOW:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()


class Staged(NamedTuple):
    rows: int
    bad: int
    repeated_ids: bool  # maybe: ``mark_duplicates`` tells for sure


class Chunks(NamedTuple):
    results: Iterator[validation.Chunk]
    positions: deque  # where each chunk ends: bytes (CSV) or row number (XLSX)
    size: int  # bytes in the file; 0 when progress counts rows


def chunks(batch: ImportBatch, stream: BinaryIO, layout: reading.FileLayout, rules: validation.RowRules) -> Chunks:
    """The file's rows checked and encoded, chunk by chunk, in order."""
    positions: deque = deque()
    pooled = use_pool(batch.file_size)
    if layout.format == "csv":
        encoding = layout.encoding.replace("-sig", "")

        def csv_jobs():
            for data, first_line, position in reading.csv_blocks(stream, layout):
                positions.append(position)
                yield data, encoding, first_line

        results = _encoded(csv_jobs(), validation.csv_chunk_in_worker,
                           lambda encoder, job: encoder.csv_chunk(*job), rules, pooled)
        return Chunks(results, positions, batch.file_size)

    def xlsx_jobs():
        for records in reading.xlsx_rows(stream, skip_header=True, width=rules.width):
            positions.append(records[-1][0])
            yield records

    results = _encoded(xlsx_jobs(), validation.rows_in_worker, lambda encoder, job: encoder.rows(job), rules, pooled)
    return Chunks(results, positions, 0)


class RepeatWatch:
    """Notices a repeated ID number from the chunks' 64-bit keys."""

    def __init__(self):
        self.seen: set[int] = set()
        self.repeated = False

    def add(self, chunk: validation.Chunk) -> bool:
        keys = array("Q", chunk.id_keys)
        before = len(self.seen)
        self.seen.update(keys)
        self.repeated = self.repeated or len(self.seen) - before != len(keys)
        return self.repeated


def copy_sql() -> str:
    return f"COPY {ROWS} ({', '.join(validation.COPY_COLUMNS)}) FROM STDIN"


def stage(batch: ImportBatch, stream: BinaryIO, layout: reading.FileLayout, progress: Progress) -> Staged:
    """Validate, encrypt and COPY every data row into the staging table, in one statement."""
    work = chunks(batch, stream, layout, rules_for(batch, layout))
    watch, total_rows, bad_rows = RepeatWatch(), 0, 0
    discard_rows(batch.pk)
    with connection.cursor() as cursor, closing(work.results):  # closing: the pool goes even on failure
        with cursor.cursor.copy(copy_sql()) as copy:
            for chunk in work.results:
                copy.write(chunk.data)
                total_rows += chunk.rows
                bad_rows += chunk.bad
                watch.add(chunk)
                progress(work.positions.popleft(), work.size)
    return Staged(total_rows, bad_rows, watch.repeated)


ChunkHandler = Callable[[validation.Chunk, RepeatWatch, int, int], None]


def stage_overlapped(batch: ImportBatch, stream: BinaryIO, layout: reading.FileLayout, progress: Progress,
                     on_chunk: ChunkHandler) -> Staged:
    """``stage`` for big files, with three things at work at once: the worker
    processes check chunk n+2, a thread COPies chunk n+1 into the staging table
    (on a connection of its own, committing each chunk), and this thread hands
    chunk n to ``on_chunk(chunk, watch, done, total)``, which may apply it inside
    the caller's open transaction. ``done`` and ``total`` are what ``progress`` hears.
    """
    work = chunks(batch, stream, layout, rules_for(batch, layout))
    watch, total_rows, bad_rows = RepeatWatch(), 0, 0
    with StagingThread(connection.tenant) as staging, closing(work.results):
        staging.run(_discard_rows, batch.pk).result()
        waiting: deque = deque()  # (chunk, its COPY, position) not yet handed on

        def hand_on():
            chunk, copied, done = waiting.popleft()
            copied.result()
            on_chunk(chunk, watch, done, work.size)
            progress(done, work.size)

        for chunk in work.results:
            total_rows += chunk.rows
            bad_rows += chunk.bad
            watch.add(chunk)
            waiting.append((chunk, staging.run(_copy_chunk, chunk.data), work.positions.popleft()))
            if len(waiting) > 1:
                hand_on()
        while waiting:
            hand_on()
    return Staged(total_rows, bad_rows, watch.repeated)


def _copy_chunk(cursor, data: bytes) -> None:
    with cursor.cursor.copy(copy_sql()) as copy:
        copy.write(data)


class StagingThread:
    """One thread with its own connection to the tenant's schema, in autocommit:
    what it writes is committed at once and seen by the caller's transaction."""

    def __init__(self, tenant):
        self.tenant = tenant
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="registry-import-staging")
        self.local = threading.local()

    def run(self, fn, *args) -> Future:
        return self.executor.submit(self._in_thread, fn, *args)

    def _in_thread(self, fn, *args):
        if not hasattr(self.local, "connection"):
            # Django connections belong to the thread that opens them.
            self.local.connection = connections.create_connection(DEFAULT_DB_ALIAS)
            self.local.connection.set_tenant(self.tenant)
        with self.local.connection.cursor() as cursor:
            return fn(cursor, *args)

    def _close(self):
        if hasattr(self.local, "connection"):
            self.local.connection.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.executor.submit(self._close).result()
        self.executor.shutdown()


def mark_duplicates(batch: ImportBatch) -> int:
    """Every row whose ID number is also on another row is bad, naming the other lines."""
    before, after = (_("The same ID number is also on line %(lines)s.") % {"lines": "\x00"}).split("\x00")
    with connection.cursor() as cursor:
        cursor.execute(f"""
            WITH twice AS (
                SELECT id_index, array_agg(line ORDER BY line) AS lines FROM {ROWS}
                WHERE batch_id = %(batch)s AND id_index <> '' GROUP BY id_index HAVING count(*) > 1
            )
            UPDATE {ROWS} s SET outcome = %(bad)s,
                errors = COALESCE(s.errors, '[]'::jsonb) || jsonb_build_array(
                    %(before)s || array_to_string(array_remove(twice.lines[1:11], s.line), ', ') || %(after)s)
            FROM twice WHERE s.batch_id = %(batch)s AND s.id_index = twice.id_index
        """, {"batch": batch.pk, "bad": Outcome.BAD, "before": before, "after": after})
        return cursor.rowcount


# A registry value counts as different only where the file gives one: an empty
# optional cell never erases what the registry knows.
_DIFFERS = {
    "name": "s.name <> p.name",
    "phone": "s.phone_index <> '' AND s.phone_index <> p.phone_index",
    "residence": "s.residence <> '' AND s.residence <> p.residence",
    "registered_address": "s.registered_address <> '' AND s.registered_address <> p.registered_address",
    "actual_address": "s.actual_address <> '' AND s.actual_address <> p.actual_address",
    "grid": "s.grid_id <> p.grid_id",
    "household": "s.household_number <> '' AND s.household_number IS DISTINCT FROM h.number",
}
# [registry value, file value] for each difference; the registry's phone is filled in
# afterwards, masked (it is stored encrypted).
_PAIRS = {
    "name": "p.name, s.name",
    "phone": "NULL, s.phone_masked",
    "residence": "p.residence, s.residence",
    "registered_address": "p.registered_address, s.registered_address",
    "actual_address": "p.actual_address, s.actual_address",
    "grid": "g.code, s.grid_code",
    "household": "h.number, s.household_number",
}


Lines = tuple[int, int] | None  # first and last file line of a chunk; None = the whole batch


def _in(lines: Lines) -> str:
    return " AND s.line BETWEEN %(first)s AND %(last)s" if lines else ""


def _params(batch: ImportBatch, lines: Lines = None) -> dict:
    first, last = lines or (0, 0)
    return {"batch": batch.pk, "first": first, "last": last, "source": batch.source, "new": Outcome.NEW, "updated": Outcome.UPDATED,
            "unchanged": Outcome.UNCHANGED, "conflicting": Outcome.CONFLICTING,
            "registered": Person.Residence.REGISTERED}


def classify(batch: ImportBatch, lines: Lines = None) -> None:
    """Match good rows to the registry by blind index: unchanged, updated (same
    source, different values) or conflicting (another source, different values).
    Rows without a match stay ``new``."""
    any_difference = " OR ".join(f"({condition})" for condition in _DIFFERS.values())
    pairs = ", ".join(f"'{field}', CASE WHEN {_DIFFERS[field]} THEN jsonb_build_array({pair}) END"
                      for field, pair in _PAIRS.items())
    with connection.cursor() as cursor:
        cursor.execute(f"""
            INSERT INTO {MATCHES} (batch_id, line, person_id, outcome, differences)
            SELECT s.batch_id, s.line, p.id,
                   CASE WHEN NOT ({any_difference}) THEN %(unchanged)s
                        WHEN p.source = %(source)s THEN %(updated)s
                        ELSE %(conflicting)s END,
                   CASE WHEN {any_difference} THEN jsonb_strip_nulls(jsonb_build_object({pairs})) END
            FROM {ROWS} s
            JOIN {PERSONS} p ON p.id_number_index = s.id_index
            LEFT JOIN {UNITS} g ON g.id = p.grid_id
            LEFT JOIN {HOUSEHOLDS} h ON h.id = p.household_id
            WHERE s.batch_id = %(batch)s AND s.outcome = %(new)s{_in(lines)}
        """, _params(batch, lines))


def known_rows(batch: ImportBatch, lines: Lines = None) -> int:
    """Good rows among ``lines`` whose ID number the registry already has."""
    with connection.cursor() as cursor:
        cursor.execute(f"""
            SELECT count(*) FROM {ROWS} s JOIN {PERSONS} p ON p.id_number_index = s.id_index
            WHERE s.batch_id = %(batch)s AND s.outcome = %(new)s{_in(lines)}
        """, _params(batch, lines))
        return cursor.fetchone()[0]


def fill_registry_phones(batch: ImportBatch) -> None:
    """The registry's side of a phone difference, masked (it is stored encrypted)."""
    rows = list(ImportMatch.objects.filter(batch_id=batch.pk, differences__has_key="phone")
                .values_list("line", "person_id"))
    if not rows:
        return
    phones = dict(Person.objects.filter(pk__in={p for _line, p in rows}).values_list("pk", "phone_encrypted"))
    values = [(protection.mask_phone(protection.decrypt(phones[p])) if phones.get(p) else "", batch.pk, line)
              for line, p in rows]
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {MATCHES} SET differences = jsonb_set(differences, '{{phone,0}}', to_jsonb(%s::text)) "
            "WHERE batch_id = %s AND line = %s", values)


def apply(batch: ImportBatch, counts: dict[str, int] | None = None, lines: Lines = None) -> None:
    """Insert the new persons (and the households the file names). With ``counts``,
    statements with nothing to do are skipped (each would read every staged row);
    a chunk (``lines``) is small enough to run both. Updates follow in
    ``update_changed_persons``."""
    if counts is None or counts[Outcome.NEW] or counts[Outcome.UPDATED]:
        insert_households(batch, lines)
    if counts is None or counts[Outcome.NEW]:
        insert_new_persons(batch, lines)


def insert_households(batch: ImportBatch, lines: Lines = None) -> None:
    """Households the file names and the registry lacks, for new and updated rows."""
    if Field.HOUSEHOLD not in batch.column_mapping.values():
        return
    with connection.cursor() as cursor:
        cursor.execute(f"""
            INSERT INTO {HOUSEHOLDS} (created_at, updated_at, source, grid_id, number, address)
            SELECT DISTINCT ON (s.household_number) now(), now(), %(source)s, s.grid_id, s.household_number,
                   COALESCE(NULLIF(s.actual_address, ''), s.registered_address)
            FROM {ROWS} s LEFT JOIN {MATCHES} m ON m.batch_id = s.batch_id AND m.line = s.line
            WHERE s.batch_id = %(batch)s AND s.outcome = %(new)s AND s.household_number <> ''
              AND (m.outcome IS NULL OR m.outcome = %(updated)s)
              AND NOT EXISTS (SELECT 1 FROM {HOUSEHOLDS} h WHERE h.number = s.household_number){_in(lines)}
            ORDER BY s.household_number, s.line
        """, _params(batch, lines))


def insert_new_persons(batch: ImportBatch, lines: Lines = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"""
            INSERT INTO {PERSONS} (created_at, updated_at, source, grid_id, name, id_number_encrypted,
                id_number_index, gender, birth_date, phone_encrypted, phone_index, residence,
                registered_address, actual_address, household_id)
            SELECT now(), now(), %(source)s, s.grid_id, s.name, s.id_encrypted, s.id_index, s.gender,
                   s.birth_date, s.phone_encrypted, s.phone_index,
                   COALESCE(NULLIF(s.residence, ''), %(registered)s), s.registered_address, s.actual_address, h.id
            FROM {ROWS} s LEFT JOIN {HOUSEHOLDS} h ON s.household_number <> '' AND h.number = s.household_number
            WHERE s.batch_id = %(batch)s AND s.outcome = %(new)s
              AND NOT EXISTS (SELECT 1 FROM {MATCHES} m WHERE m.batch_id = s.batch_id AND m.line = s.line){_in(lines)}
            -- In index order: neighbouring keys land on the same pages of the unique index.
            ORDER BY s.id_index
        """, _params(batch, lines))


def update_changed_persons(batch: ImportBatch) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"""
            UPDATE {PERSONS} p SET updated_at = now(), name = s.name, grid_id = s.grid_id,
                phone_encrypted = CASE WHEN s.phone_index <> '' THEN s.phone_encrypted ELSE p.phone_encrypted END,
                phone_index = CASE WHEN s.phone_index <> '' THEN s.phone_index ELSE p.phone_index END,
                residence = COALESCE(NULLIF(s.residence, ''), p.residence),
                registered_address = COALESCE(NULLIF(s.registered_address, ''), p.registered_address),
                actual_address = COALESCE(NULLIF(s.actual_address, ''), p.actual_address),
                household_id = CASE WHEN s.household_number <> '' THEN h.id ELSE p.household_id END
            FROM {MATCHES} m
            JOIN {ROWS} s ON s.batch_id = m.batch_id AND s.line = m.line
            LEFT JOIN {HOUSEHOLDS} h ON s.household_number <> '' AND h.number = s.household_number
            WHERE m.batch_id = %(batch)s AND m.outcome = %(updated)s AND p.id = m.person_id
        """, _params(batch))


def outcome_counts(batch: ImportBatch) -> dict[str, int]:
    """Rows per outcome; staged good rows without a match are new."""
    counts = dict.fromkeys(Outcome.values, 0)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT outcome, count(*) FROM {ROWS} WHERE batch_id = %s GROUP BY outcome", [batch.pk])
        counts.update(cursor.fetchall())
        cursor.execute(f"SELECT outcome, count(*) FROM {MATCHES} WHERE batch_id = %s GROUP BY outcome", [batch.pk])
        for outcome, count in cursor.fetchall():
            counts[outcome] += count
            counts[Outcome.NEW] -= count
    return counts


def discard_rows(batch_id: int) -> None:
    with connection.cursor() as cursor:
        _discard_rows(cursor, batch_id)


def _discard_rows(cursor, batch_id: int) -> None:
    cursor.execute(f"DELETE FROM {MATCHES} WHERE batch_id = %s", [batch_id])
    cursor.execute(f"DELETE FROM {ROWS} WHERE batch_id = %s", [batch_id])


def lock_registry_imports() -> None:
    """One import applies at a time per tenant: two at once could both see a person as new."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(current_schema() || ':registry-import'))")


def more_memory_for_this_transaction() -> None:
    # A million-row hash join or aggregate spills to disk at the default 4 MB.
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL work_mem = '256MB'")
