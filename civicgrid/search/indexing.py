"""Keeping the index up to date: the queue of stale cases and the indexer.

After each case event commits, the outbox relay puts the case in ``IndexQueue``
(``queue_cases``) and asks for ``drain`` on commit. ``drain`` takes a batch of
queued cases under SKIP LOCKED, builds their documents and writes them in one
bulk call; the queue rows go only if the write succeeded, so a backend that is
down leaves them for the next try (every minute, and at each later event).
A case changed while its batch is in flight is queued again behind the lock,
so its newest state is indexed next.

``reindex`` rebuilds a tenant's whole index in batches with progress, while
searches go on (documents are replaced in place).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from .backends import backend
from .documents import case_documents, iter_all_case_ids
from .models import IndexQueue
from .query import SearchUnavailable

logger = logging.getLogger(__name__)
DRAIN_BATCH = 500
DRAIN_WINDOW = 1  # seconds: how fresh search is, at most, beyond the indexing itself
REINDEX_BATCH = 2000


def queue_cases(case_ids: Iterable[int]) -> None:
    """Mark these cases' documents stale (in the caller's transaction)."""
    ids = sorted(set(case_ids))
    if not ids:
        return
    with connection.cursor() as cursor:
        cursor.execute(f"""
            INSERT INTO {IndexQueue._meta.db_table} (case_id, queued_at)
            SELECT unnest(%s::bigint[]), %s ON CONFLICT (case_id) DO NOTHING
        """, [ids, timezone.now()])


def request_drain(schema: str) -> None:
    """Ask a worker to index this schema's queue; if the broker is down the beat job does it later.

    Requests are coalesced: the first in a window of ``DRAIN_WINDOW`` seconds sends a task
    that starts when the window closes, and the others in the window send nothing. Every
    case queued in the window was committed before that task starts, so it drains them
    all in one batch instead of one task per case event (a busy county makes hundreds a
    minute, and the workers have notifications to send)."""
    from django.core.cache import cache
    from django_tenants.utils import schema_context

    from .tasks import index_queued

    try:
        with schema_context(schema):  # the cache key carries the schema
            if not cache.add("search:drain-requested", 1, timeout=DRAIN_WINDOW):
                return
    except Exception:  # the cache is Redis, and so is the broker: try to send anyway
        logger.warning("search: could not coalesce indexing requests in %s", schema, exc_info=True)
    try:
        with schema_context(schema):
            index_queued.apply_async(countdown=DRAIN_WINDOW, retry=False)
    except Exception:
        logger.warning("search: could not ask for indexing in %s; the queue waits", schema, exc_info=True)


def drain(*, batch: int = DRAIN_BATCH, max_batches: int | None = None) -> int:
    """Index the current schema's queued cases; returns how many were indexed.
    Raises ``SearchUnavailable`` (queue untouched) if the backend cannot take them."""
    schema = connection.schema_name
    engine = backend()
    done = 0
    batches = 0
    while max_batches is None or batches < max_batches:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(f"""
                    DELETE FROM {IndexQueue._meta.db_table} WHERE case_id IN (
                        SELECT case_id FROM {IndexQueue._meta.db_table}
                        ORDER BY queued_at, case_id LIMIT %s FOR UPDATE SKIP LOCKED)
                    RETURNING case_id
                """, [batch])
                ids = [row[0] for row in cursor.fetchall()]
            if not ids:
                break
            docs = [doc.segmented() for doc in case_documents(ids)]
            engine.bulk(schema, docs)  # raises SearchUnavailable: the DELETE rolls back
            gone = set(ids) - {doc.case_id for doc in docs}
            if gone:
                engine.delete(schema, sorted(gone))
        done += len(ids)
        batches += 1
    return done


def queue_backlog() -> tuple[int, float]:
    """(cases waiting, age of the oldest in seconds) in the current schema."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*), min(queued_at) FROM {IndexQueue._meta.db_table}")
        waiting, oldest = cursor.fetchone()
    return waiting, (timezone.now() - oldest).total_seconds() if oldest else 0.0


# --- rebuilding a whole tenant ---------------------------------------------------------


@dataclass
class ReindexReport:
    cases: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.cases / self.seconds if self.seconds else 0.0


def reindex(*, progress: Callable[[int, int], None] | None = None, batch: int = REINDEX_BATCH,
            engine=None) -> ReindexReport:
    """Rebuild the current schema's index from its cases, batch by batch, while searches go
    on (documents are replaced in place). Cases changed meanwhile are queued as usual and
    indexed after. ``progress(done, total)`` after each batch. ``engine``: where to write
    (default the backend in use; an Elasticsearch rebuild passes its new index's writer).

    Each batch is written by a thread of its own (with its own connection) while this one
    reads and segments the next: the engine's work and ours overlap. Inside a caller's
    transaction the batches are written here instead, where the caller's rows are visible."""
    from civicgrid.platform.cases.models import Case

    schema = connection.schema_name
    engine = engine or backend()
    engine.prepare(schema)
    total = Case.objects.count()
    started = time.monotonic()
    done = 0
    if progress:
        progress(0, total)
    with _Writer(engine, schema, threaded=not connection.in_atomic_block) as writer:
        for ids in iter_all_case_ids(batch):
            done += writer.write([doc.segmented() for doc in case_documents(ids)])
            if progress:
                progress(done, total)
        done += writer.flush()
    if progress:
        progress(done, total)
    engine.finish_reindex(schema)
    return ReindexReport(cases=done, seconds=time.monotonic() - started)


class _Writer:
    """Writes batches to the engine one behind the reader: ``write`` hands a batch over
    and returns how many the previous one wrote (its errors are raised here)."""

    def __init__(self, engine, schema: str, *, threaded: bool):
        self.engine, self.schema = engine, schema
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reindex") if threaded else None
        self.pending: Future | None = None

    def __enter__(self):
        return self

    def write(self, docs: list) -> int:
        if self.pool is None:
            self.engine.bulk(self.schema, docs)
            return len(docs)
        written = self.flush()
        self.pending = self.pool.submit(self._bulk, docs)
        return written

    def flush(self) -> int:
        pending, self.pending = self.pending, None
        return pending.result() if pending else 0

    def _bulk(self, docs: list) -> int:
        self.engine.bulk(self.schema, docs)
        return len(docs)

    def __exit__(self, *exc_info):
        if self.pool is not None:
            self.pool.submit(lambda: connection.close()).result()  # the thread's own connection
            self.pool.shutdown()


__all__ = ["ReindexReport", "SearchUnavailable", "drain", "queue_backlog", "queue_cases", "reindex",
           "request_drain"]
