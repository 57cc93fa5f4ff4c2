"""PostgreSQL full-text search in each tenant's schema (the default backend).

Documents live in ``search_casedocument`` (see ``models``): the words as a tsvector
under a GIN index, and the terms filters and scopes need, so a search reads one
table. The tsvector and tsquery are written as literals of jieba's words, so the
result does not depend on the server's locale or text-search parser (a ``C``
locale would drop every Chinese character).

Queries run with a statement timeout: a search that cannot answer in time is
reported unavailable and the caller falls back to the database filter.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import contextmanager
from datetime import datetime

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from civicgrid.platform.cases.models import Case

from .. import highlight
from ..documents import CaseDoc, quote_lexeme
from ..query import FACETS, Hit, SearchRequest, SearchResult, SearchUnavailable
from ..segment import query_terms
from .base import Health, SearchBackend

TABLE = "search_casedocument"
CASE_TABLE = Case._meta.db_table
COLUMNS = ("case_id", "number", "title", "meta", "body", "vector", "status", "category_codes", "source", "urgency",
           "org_path", "department_id", "held_departments", "reporter_id", "reported_at", "clock_due", "clock_warn",
           "clock_stopped_at", "is_open", "indexed_at")
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
    whole (``CIVICGRID_SEARCH_TIMEOUT_MS``); bulk writes may run long but wait for a lock
    no longer than that."""
    timeout = f"{int(settings.CIVICGRID_SEARCH_TIMEOUT_MS)}ms"
    try:
        with schema_context(schema), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT set_config('statement_timeout', %s, true), set_config('lock_timeout', %s, true)",
                           ["0" if writing else timeout, timeout])
            yield cursor
    except DatabaseError as exc:
        raise SearchUnavailable(f"PostgreSQL search: {exc}") from exc


class PostgresBackend(SearchBackend):
    name = "postgres"

    # --- writing ------------------------------------------------------------------------

    def index(self, schema: str, doc: CaseDoc) -> None:
        self.bulk(schema, [doc])

    def bulk(self, schema: str, docs: Sequence[CaseDoc]) -> int:
        if not docs:
            return 0
        now = timezone.now()
        updates = ", ".join(f"{c} = excluded.{c}" for c in COLUMNS if c != "case_id")
        with _guarded(schema, writing=True) as cursor:
            # Dropped first: inside a caller's transaction an earlier batch's table is still there.
            cursor.execute("DROP TABLE IF EXISTS pg_temp.search_load")
            cursor.execute(f"CREATE TEMP TABLE search_load (LIKE {TABLE} INCLUDING DEFAULTS) ON COMMIT DROP")
            with cursor.copy(f"COPY search_load ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                for doc in docs:
                    copy.write_row(_row(doc, now))
            # Only cases that still exist: a document never outlives its case.
            cursor.execute(f"""
                INSERT INTO {TABLE} ({', '.join(COLUMNS)})
                SELECT {', '.join('l.' + c for c in COLUMNS)} FROM search_load l
                JOIN {CASE_TABLE} c ON c.id = l.case_id
                ON CONFLICT (case_id) DO UPDATE SET {updates}
            """)
            return cursor.rowcount

    def delete(self, schema: str, case_ids: Sequence[int]) -> None:
        with _guarded(schema, writing=True) as cursor:
            cursor.execute(f"DELETE FROM {TABLE} WHERE case_id = ANY(%s)", [list(case_ids)])

    # --- reading ------------------------------------------------------------------------

    def search(self, schema: str, request: SearchRequest) -> SearchResult:
        query = tsquery(request.text)
        if not query:
            return SearchResult(hits=[], total=0)
        where, params = _where(request, query)
        with _guarded(schema) as cursor:
            cursor.execute(f"""
                SELECT d.case_id, ts_rank(d.vector, %(q)s::tsquery) AS score, d.title, d.meta, d.body
                FROM {TABLE} d WHERE {where}
                ORDER BY score DESC, d.reported_at DESC, d.case_id DESC
                LIMIT %(limit)s OFFSET %(offset)s
            """, params)
            rows = cursor.fetchall()
            if request.facets:
                total, facets = _facets(cursor, where, params)
            else:
                cursor.execute(f"SELECT count(*) FROM {TABLE} d WHERE {where}", params)
                total, facets = cursor.fetchone()[0], {}
        words = highlight.query_marks(request.text)
        hits = [Hit(case_id=case_id, score=float(score),
                    highlight=highlight.hit_highlight(title, meta, body, words))
                for case_id, score, title, meta, body in rows]
        return SearchResult(hits=hits, total=total, facets=facets)

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


def _row(doc: CaseDoc, now: datetime) -> tuple:
    return (doc.case_id, doc.number, doc.title, doc.meta, doc.body, doc.tsvector(), doc.status,
            doc.category_codes, doc.source, doc.urgency, doc.org_path, doc.department_id, doc.held_departments,
            doc.reporter_id, doc.reported_at, doc.clock_due, doc.clock_warn, doc.clock_stopped_at, doc.is_open, now)


def _where(request: SearchRequest, query: str) -> tuple[str, dict]:
    f, scope = request.filters, request.scope
    params: dict = {"q": query, "now": request.now or timezone.now(), "limit": request.limit,
                    "offset": request.offset}
    clauses = ["d.vector @@ %(q)s::tsquery"]
    if not scope.everything:
        admitted = []
        if scope.department_id:
            admitted.append("d.held_departments @> ARRAY[%(scope_department)s]::bigint[]")
            params["scope_department"] = scope.department_id
        if scope.org_path:
            admitted.append("starts_with(d.org_path, %(scope_area)s)")
            params["scope_area"] = scope.org_path
        if scope.reporter_id:
            admitted.append("d.reporter_id = %(scope_reporter)s")
            params["scope_reporter"] = scope.reporter_id
        clauses.append("(" + (" OR ".join(admitted) or "false") + ")")
    simple = {"status": ("d.status = ANY(%(statuses)s)", "statuses", list(f.statuses)),
              "category": ("d.category_codes @> ARRAY[%(category)s]::varchar[]", "category", f.category),
              "source": ("d.source = %(source)s", "source", f.source),
              "urgency": ("d.urgency = %(urgency)s", "urgency", f.urgency),
              "department": ("d.department_id = %(department)s", "department", f.department_id),
              "area": ("starts_with(d.org_path, %(area)s)", "area", f.org_path),
              "reporter": ("d.reporter_id = %(reporter)s", "reporter", f.reporter_id),
              "after": ("d.reported_at >= %(after)s", "after", f.reported_after),
              "before": ("d.reported_at < %(before)s", "before", f.reported_before)}
    for clause, name, value in simple.values():
        if value:
            clauses.append(clause)
            params[name] = value
    if f.light:
        clauses.append(f"d.is_open AND ({LIGHT_SQL}) = %(light)s")
        params["light"] = f.light
    return " AND ".join(clauses), params


def _facets(cursor, where: str, params: dict) -> tuple[int, dict[str, dict[str, int]]]:
    """The total and every facet's counts in one pass over the matches."""
    cursor.execute(f"""
        WITH m AS MATERIALIZED (
            SELECT d.status, d.category_codes[1] AS category, d.source, d.department_id,
                   CASE WHEN d.is_open THEN {LIGHT_SQL} END AS light
            FROM {TABLE} d WHERE {where}
        )
        SELECT 'total', '', count(*) FROM m
        UNION ALL SELECT 'status', status, count(*) FROM m GROUP BY status
        UNION ALL SELECT 'category', category, count(*) FROM m GROUP BY category
        UNION ALL SELECT 'source', source, count(*) FROM m GROUP BY source
        UNION ALL SELECT 'department', department_id::text, count(*) FROM m WHERE department_id IS NOT NULL
                  GROUP BY department_id
        UNION ALL SELECT 'light', light, count(*) FROM m WHERE light IS NOT NULL GROUP BY light
    """, params)
    total, facets = 0, {name: {} for name in FACETS}
    for facet, value, count in cursor.fetchall():
        if facet == "total":
            total = count
        elif value is not None:
            facets[facet][value] = count
    return total, facets

