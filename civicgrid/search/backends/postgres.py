"""PostgreSQL full-text search in each tenant's schema (the default backend).

Documents live in ``search_casedocument`` (see ``models``), partitioned by month of
``reported_at``: the words as a stripped tsvector under a GIN index, a small weighted
one of the title and meta for ranking, and the terms filters, facets and scopes read.
The tsvectors and tsquery are written as literals of jieba's words, so the result does
not depend on the server's locale or text-search parser (a ``C`` locale would drop
every Chinese character).

Work per search is bounded, whatever the tenant's size. The matches are gathered
newest month first, and at most ``COUNT_LIMIT`` of them are read: the newest. Over
those the search counts (exact up to the limit, then "at least", as Elasticsearch
counts only up to a limit by default), counts the facets and ranks: the query's words
in the title above the meta (category, address, grid) above the description and
comments only, then the newer first. A common word in a tenant of millions of cases
therefore costs what five thousand matches cost (bench/search.py: the limit is what
keeps p95 under 50 ms over a million cases on two cores), and a rare one what its few
matches cost. Filters and scopes are terms in the tsvector beside the words
(``documents.filter_term``), so the GIN index narrows by both at once.

Queries run with a statement timeout: a search that cannot answer in time is reported
unavailable and the caller falls back to the database filter.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from civicgrid.platform.cases.models import OPEN_STATUSES, Case
from civicgrid.tenants import replicas

from .. import highlight
from ..documents import CaseDoc, case_texts, filter_term, quote_lexeme
from ..query import FACETS, Hit, SearchRequest, SearchResult, SearchUnavailable
from ..segment import query_terms
from .base import Health, SearchBackend

TABLE = "search_casedocument"
PARTITION_PREFIX = f"{TABLE}_p"  # search_casedocument_p202611: the month's cases
CASE_TABLE = Case._meta.db_table
OPEN = {str(status) for status in OPEN_STATUSES}
# The most matches one search reads (the newest), counts exactly and ranks.
COUNT_LIMIT = 5_000
COLUMNS = ("case_id", "reported_at", "vector", "head", "status", "category_codes", "source", "urgency", "org_path",
           "department_id", "held_departments", "reporter_id", "clock_due", "clock_warn", "clock_stopped_at",
           "is_open", "indexed_at")
# What a bulk write sends: the words instead of the vector, which the server makes.
LOADED = tuple("words" if column == "vector" else column for column in COLUMNS)
LIGHT_SQL = """CASE WHEN coalesce(d.clock_stopped_at, %(now)s) > d.clock_due THEN 'red'
                    WHEN coalesce(d.clock_stopped_at, %(now)s) >= d.clock_warn THEN 'yellow'
                    ELSE 'green' END"""


def tsquery(text: str) -> str:
    """Every query word must match: the word itself, or all the pieces it splits into."""
    parts = []
    for word, pieces in query_terms(text):
        alternative = " & ".join(quote_lexeme(p) for p in pieces)
        parts.append(f"({quote_lexeme(word)} | ({alternative}))" if pieces else quote_lexeme(word))
    return " & ".join(parts)


@contextmanager
def _guarded(schema: str, *, writing: bool = False):
    """In the tenant's schema and a transaction with a timeout; database errors (a timeout,
    a table locked by maintenance) come out as ``SearchUnavailable``. Reads are bounded as a
    whole (``CIVICGRID_SEARCH_TIMEOUT_MS``) and planned for latency: no JIT compilation
    (it costs more than the query), no parallel workers, bitmaps that stay exact. Bulk
    writes may run long but wait for a lock no longer than the timeout. Reads inside a replica
    scope run on the replica; the replica failing to answer is let through, so the scope
    answers from the primary rather than calling search unavailable."""
    timeout = f"{int(settings.CIVICGRID_SEARCH_TIMEOUT_MS)}ms"
    db = connection
    try:
        with schema_context(schema):
            db = connection if writing else replicas.read_connection()
            with transaction.atomic(using=db.alias), db.cursor() as cursor:
                cursor.execute("""SELECT set_config('statement_timeout', %s, true), set_config('lock_timeout', %s, true),
                                         set_config('jit', 'off', true), set_config('work_mem', '16MB', true),
                                         set_config('max_parallel_workers_per_gather', '0', true)""",
                               ["0" if writing else timeout, timeout])
                yield cursor
    except DatabaseError as exc:
        if replicas.replica_gave_up(exc, db.alias):
            raise
        raise SearchUnavailable(f"PostgreSQL search: {exc}") from exc


# --- monthly partitions -----------------------------------------------------------------

def partition_name(moment: datetime) -> str:
    month = moment.astimezone(UTC)
    return f"{PARTITION_PREFIX}{month:%Y%m}"


def _month_of(partition: str) -> date:
    stamp = partition.removeprefix(PARTITION_PREFIX)
    return date(int(stamp[:4]), int(stamp[4:6]), 1)


def _next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def _month_start(month: date) -> datetime:
    return datetime(month.year, month.month, 1, tzinfo=UTC)


def ensure_partitions(cursor, schema: str, moments: Sequence[datetime]) -> None:
    """Create the month partitions these moments fall in that do not exist yet, in the
    caller's transaction, under an advisory lock (two indexers meeting on a new month).
    A month appears once, so the lock and the DDL are rare; the catalog is asked each
    time (a fraction of a millisecond), so nothing cached can go stale."""
    wanted = {partition_name(moment) for moment in moments} - set(partitions(cursor))
    if not wanted:
        return
    cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"{schema}:{TABLE}:partitions"])
    for name in sorted(wanted - set(partitions(cursor))):
        month = _month_of(name)
        cursor.execute(f"CREATE TABLE {name} PARTITION OF {TABLE} FOR VALUES FROM (%s) TO (%s)",
                       [_month_start(month), _month_start(_next_month(month))])


def partitions(cursor) -> list[str]:
    """This schema's month partitions, newest first."""
    cursor.execute("""SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                       WHERE i.inhparent = %s::regclass ORDER BY c.relname DESC""", [TABLE])
    return [name for (name,) in cursor.fetchall()]


class PostgresBackend(SearchBackend):
    name = "postgres"

    # --- writing ------------------------------------------------------------------------

    def bulk(self, schema: str, docs: Sequence[CaseDoc]) -> int:
        if not docs:
            return 0
        now = timezone.now()
        updates = ", ".join(f"{c} = excluded.{c}" for c in COLUMNS if c not in ("case_id", "reported_at"))
        with _guarded(schema, writing=True) as cursor:
            ensure_partitions(cursor, schema, [doc.reported_at for doc in docs])
            # Dropped first: inside a caller's transaction an earlier batch's table is still there.
            cursor.execute("DROP TABLE IF EXISTS pg_temp.search_load")
            cursor.execute(f"CREATE TEMP TABLE search_load (LIKE {TABLE}) ON COMMIT DROP")
            cursor.execute("ALTER TABLE search_load ADD COLUMN words text, ALTER COLUMN vector DROP NOT NULL")
            with cursor.copy(f"COPY search_load ({', '.join(LOADED)}) FROM STDIN") as copy:
                for doc in docs:
                    copy.write_row(_row(doc, now))
            made = {"vector": "array_to_tsvector(string_to_array(l.words, ' '))"}
            # Only cases that still exist: a document never outlives its case.
            cursor.execute(f"""
                INSERT INTO {TABLE} ({', '.join(COLUMNS)})
                SELECT {', '.join(made.get(c, 'l.' + c) for c in COLUMNS)} FROM search_load l
                JOIN {CASE_TABLE} c ON c.id = l.case_id
                ON CONFLICT (case_id, reported_at) DO UPDATE SET {updates}
            """)
            return cursor.rowcount

    def prepare(self, schema: str) -> None:
        """This month's partition and the next one, made ahead (by the beat job and before a
        reindex) so the live indexer seldom has to make one while operators search."""
        now = timezone.now()
        with _guarded(schema, writing=True) as cursor:
            ensure_partitions(cursor, schema, [now, now + timedelta(days=32)])

    def finish_reindex(self, schema: str) -> None:
        """Documents of cases deleted since they were indexed go (there is no foreign key:
        see migration 0002)."""
        with _guarded(schema, writing=True) as cursor:
            cursor.execute(f"DELETE FROM {TABLE} d WHERE NOT EXISTS (SELECT 1 FROM {CASE_TABLE} c "
                           "WHERE c.id = d.case_id)")

    def delete(self, schema: str, case_ids: Sequence[int]) -> None:
        with _guarded(schema, writing=True) as cursor:
            cursor.execute(f"DELETE FROM {TABLE} WHERE case_id = ANY(%s)", [list(case_ids)])

    # --- reading ------------------------------------------------------------------------

    def search(self, schema: str, request: SearchRequest) -> SearchResult:
        query = tsquery(request.text)
        if not query:
            return _nothing(request)
        found = _where(request, query)
        if found is None:
            return _nothing(request)
        where, params = found
        with _guarded(schema) as cursor:
            # The months are read directly; the parent's lock is taken as a plain read of it
            # would, so maintenance holding the index (a reindex's DDL, a restore) is waited
            # for no longer than the timeout, then reported as the engine being unavailable.
            cursor.execute(f"LOCK TABLE ONLY {TABLE} IN ACCESS SHARE MODE")
            months = _months_for(partitions(cursor), request)
            if not months:
                return _nothing(request)
            cursor.execute(_search_sql(months, where, request.facets), params)
            ranked, total, facets = _read(cursor.fetchall(), request.facets)
            texts = case_texts(list(ranked))
        words = highlight.query_marks(request.text)
        hits = [Hit(case_id=case_id, score=score, highlight=highlight.hit_highlight(*texts[case_id], words))
                for case_id, score in ranked.items() if case_id in texts]
        return SearchResult(hits=hits, total=min(total, COUNT_LIMIT), facets=facets,
                            total_is_exact=total <= COUNT_LIMIT)

    def count(self, schema: str) -> int:
        with _guarded(schema) as cursor:
            cursor.execute(f"SELECT count(*) FROM {TABLE}")
            return cursor.fetchone()[0]

    def health(self) -> Health:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT set_config('statement_timeout', '2s', true)")
                cursor.execute("SELECT 1")
            return Health(ok=True, backend=self.name)
        except DatabaseError as exc:
            return Health(ok=False, backend=self.name, detail=str(exc))


def _nothing(request: SearchRequest) -> SearchResult:
    return SearchResult(hits=[], total=0, facets={name: {} for name in FACETS} if request.facets else {})


def _row(doc: CaseDoc, now: datetime) -> tuple:
    # The arrays in their text form: psycopg's list dumper would cost more than the rest of
    # the row in a reindex.
    return (doc.case_id, doc.reported_at, doc.match_words(), doc.head_tsvector(), doc.status,
            _text_array(doc.category_codes), doc.source, doc.urgency, doc.org_path, doc.department_id,
            "{" + ",".join(map(str, doc.held_departments)) + "}", doc.reporter_id, doc.clock_due, doc.clock_warn,
            doc.clock_stopped_at, doc.is_open, now)


def _text_array(values: list[str]) -> str:
    """``{"a","b"}``: every element quoted, so a code holding a comma or a brace stays one."""
    return "{" + ",".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values) + "}"


def _months_for(names: list[str], request: SearchRequest) -> list[str]:
    """The partitions a search must read, newest first; months outside its date filter are skipped."""
    after, before = request.filters.reported_after, request.filters.reported_before
    found = []
    for name in names:
        month = _month_of(name)
        start, end = _month_start(month), _month_start(_next_month(month))
        if (after and end <= after) or (before and start >= before):
            continue
        found.append(name)
    return found


def _search_sql(months: list[str], where: str, facets: bool) -> str:
    """One statement: the newest ``COUNT_LIMIT`` + 1 matches, month by month (a month's
    branch runs only if the newer ones found too few; the one past the limit says the
    count is not exact), then over the newest ``COUNT_LIMIT`` the page of hits by rank
    and the facets."""
    branches = " UNION ALL ".join(f"""(
        SELECT d.case_id, d.reported_at, ts_rank(d.head, %(q)s::tsquery) AS score, d.status,
               d.category_codes[1] AS category, d.source, d.department_id,
               CASE WHEN d.is_open THEN {LIGHT_SQL} END AS light
        FROM {month} d WHERE {where} ORDER BY d.reported_at DESC, d.case_id DESC LIMIT %(cap)s)""" for month in months)
    facet_sql = """
        UNION ALL SELECT CASE GROUPING(status, category, source, department_id, light)
                             WHEN 15 THEN 'status' WHEN 23 THEN 'category' WHEN 27 THEN 'source'
                             WHEN 29 THEN 'department' ELSE 'light' END,
                         coalesce(status, category, source, department_id::text, light), count(*), 0
                  FROM m GROUP BY GROUPING SETS ((status), (category), (source), (department_id), (light))""" \
        if facets else ""
    return f"""
        WITH found AS MATERIALIZED (SELECT * FROM ({branches}) newest LIMIT %(cap)s),
        m AS MATERIALIZED (SELECT * FROM found ORDER BY reported_at DESC, case_id DESC LIMIT %(count_limit)s),
        ranked AS (
            SELECT case_id, score, row_number() OVER (ORDER BY score DESC, reported_at DESC, case_id DESC) AS place
            FROM m ORDER BY place LIMIT %(limit)s OFFSET %(offset)s)
        SELECT 'hit', case_id::text, place, score FROM ranked
        UNION ALL SELECT 'total', '', count(*), 0 FROM found {facet_sql}
    """


def _read(rows, with_facets: bool) -> tuple[dict[int, float], int, dict[str, dict[str, int]]]:
    """(hits in rank order: case id → score, matches counted, facets) from the statement's rows."""
    hits, total, facets = [], 0, {name: {} for name in FACETS} if with_facets else {}
    for kind, value, count, score in rows:
        if kind == "hit":
            hits.append((count, int(value), float(score)))
        elif kind == "total":
            total = count
        elif value is not None:
            facets[kind][value] = count
    return {case_id: score for _place, case_id, score in sorted(hits)}, total, facets


def _where(request: SearchRequest, query: str) -> tuple[str, dict] | None:
    """The SQL condition and parameters of a search, or None when nothing can match (a
    scope with no term). Scope and filters become filter terms in the tsquery, so the
    GIN index narrows by them with the words; only the dates and the light, which
    depend on the moment asked, stay SQL."""
    f, scope = request.filters, request.scope
    required = [query]
    if not scope.everything:
        admitted = ([filter_term("h", scope.department_id)] if scope.department_id else []) + (
            [filter_term("a", scope.org_path)] if scope.org_path else []) + (
            [filter_term("r", scope.reporter_id)] if scope.reporter_id else [])
        if not admitted:
            return None
        required.append(_any(admitted))
    if f.statuses and set(f.statuses) == OPEN:
        required.append(quote_lexeme(filter_term("open")))  # one term, not an alternative of seven
    elif f.statuses:
        required.append(_any([filter_term("s", status) for status in f.statuses]))
    for name, value in (("c", f.category), ("src", f.source), ("u", f.urgency), ("d", f.department_id),
                        ("a", f.org_path), ("r", f.reporter_id)):
        if value not in (None, ""):  # department 0: an unknown department, which holds nothing
            required.append(quote_lexeme(filter_term(name, value)))
    params: dict = {"now": request.now or timezone.now(), "limit": request.limit, "offset": request.offset,
                    "cap": COUNT_LIMIT + 1, "count_limit": COUNT_LIMIT, "q": query}
    clauses = ["d.vector @@ %(matching)s::tsquery"]
    if f.reported_after:
        clauses.append("d.reported_at >= %(after)s")
        params["after"] = f.reported_after
    if f.reported_before:
        clauses.append("d.reported_at < %(before)s")
        params["before"] = f.reported_before
    if f.light:
        required.append(quote_lexeme(filter_term("open")))
        clauses.append(f"({LIGHT_SQL}) = %(light)s")
        params["light"] = f.light
    params["matching"] = " & ".join(f"({part})" for part in required)
    return " AND ".join(clauses), params


def _any(terms: list[str]) -> str:
    return " | ".join(quote_lexeme(term) for term in terms)
