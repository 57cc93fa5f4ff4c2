"""What the search index holds for a case, built straight from the database.

One ``CaseDoc`` per case, built in bulk (one query for the cases, one for their
timelines) so a reindex of a million cases reads each row once. Both backends
index the same ``CaseDoc``: the text the words come from, and the terms that
filters, facets and scopes need (status, category path, area, departments that
held it, reporter, the running clock for the light).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection
from django.db.models import F, QuerySet
from psycopg.postgres import adapters as pg_adapters
from psycopg.postgres import types as pg_types
from psycopg.pq import Format

from civicgrid.platform.cases import lights
from civicgrid.platform.cases.models import OPEN_STATUSES, Case, CaseEvent, Category
from civicgrid.platform.org.models import OrgUnit

from . import segment

# Each field's weight in ranking: the title counts most, then what the case is and where.
WEIGHT_TITLE, WEIGHT_META, WEIGHT_BODY = "A", "B", "C"
MAX_POSITION = 16383  # PostgreSQL's limit for a position in a tsvector
MAX_POSITIONS_PER_WORD = 255
MAX_WORD_LENGTH = 100


@dataclass
class CaseDoc:
    case_id: int
    number: str
    title: str
    meta: str  # category, address, grid: what and where
    body: str  # description, handling result, timeline comments
    status: str
    category_codes: list[str]  # the leaf's code, then its group's
    source: str
    urgency: str
    org_path: str
    department_id: int | None
    held_departments: list[int]  # every department that held it, the present one too
    reporter_id: int | None
    reported_at: datetime
    clock_due: datetime
    clock_warn: datetime | None
    clock_stopped_at: datetime | None  # None: the clock runs, the light is read now
    is_open: bool
    words: dict[str, list[str]] = field(default_factory=dict)  # weight → words, filled by ``segmented``

    def texts(self) -> tuple[str, str, str]:
        return self.title, self.meta, self.body

    def with_words(self, words: tuple[list[str], ...]) -> CaseDoc:
        self.words = dict(zip((WEIGHT_TITLE, WEIGHT_META, WEIGHT_BODY), words, strict=True))
        return self

    def segmented(self) -> CaseDoc:
        return self.with_words(tuple(segment.document_words(text) for text in self.texts()))

    def match_words(self) -> str:
        """Every word of the case and its filter terms, separated by spaces (no word or term
        holds one): PostgreSQL makes the stripped tsvector matching needs from it
        (``array_to_tsvector``, in C, whatever the server's locale), so a reindex does not
        quote a hundred lexemes per case in Python."""
        return " ".join([*(word[:MAX_WORD_LENGTH] for field_words in self.words.values() for word in field_words),
                         *self.filter_terms()])

    def filter_terms(self) -> list[str]:
        """What filters and scopes ask for, as terms beside the words (``filter_term``): the
        GIN index then narrows by them together with the words, so a search of open cases
        in one area reads only those, not every case the words match."""
        terms = [filter_term("s", self.status), filter_term("src", self.source), filter_term("u", self.urgency)]
        if self.is_open:
            terms.append(filter_term("open"))
        terms += [filter_term("c", code) for code in self.category_codes]
        if self.department_id:
            terms.append(filter_term("d", self.department_id))
        terms += [filter_term("h", department) for department in self.held_departments]
        if self.reporter_id:
            terms.append(filter_term("r", self.reporter_id))
        parts = [part for part in self.org_path.split("/") if part]
        terms += [filter_term("a", "/".join(parts[:depth]) + "/") for depth in range(1, len(parts) + 1)]
        return terms

    def head_tsvector(self) -> str:
        """The title's words (weight A) and the meta's (B) with positions: what ranking reads.
        Kept small on purpose: the body's words count in matching, not in the rank."""
        positions: dict[str, list[str]] = {}
        position = 0
        for weight in (WEIGHT_TITLE, WEIGHT_META):
            for word in self.words.get(weight, ()):
                position = min(position + 1, MAX_POSITION)
                slots = positions.setdefault(word[:MAX_WORD_LENGTH], [])
                if len(slots) < MAX_POSITIONS_PER_WORD:
                    slots.append(f"{position}{weight}")
            position = min(position + 1, MAX_POSITION)  # no phrase runs across fields
        return " ".join(f"{quote_lexeme(word)}:{','.join(slots)}" for word, slots in positions.items())


# Filter terms start with a mark no word can hold: the segmenter splits at it and keeps
# only words with a letter or digit, so nothing typed in a search box becomes one.
FILTER_MARK = "§"


def filter_term(name: str, value: object = "") -> str:
    """``§s:dispatched``, ``§a:T01/T01-C01/``, ``§open`` … (a space in a code becomes a
    no-break space: terms travel space-separated)."""
    if value == "":
        return f"{FILTER_MARK}{name}"
    return f"{FILTER_MARK}{name}:{value}".replace(" ", "\u00a0")


def quote_lexeme(word: str) -> str:
    if "'" in word or "\\" in word:  # rare in words; the plain case is a million times a reindex
        word = word.replace("\\", "\\\\").replace("'", "''")
    return f"'{word}'"


CASE_FIELDS = ("id", "number", "title", "description", "address", "result", "status", "source", "urgency",
               "org_path", "department_id", "reporter_id", "reported_at", "category_id", "grid_id")


TEXT_FIELDS = ("id", "title", "description", "address", "result", "category_id", "grid_id")


def case_texts(case_ids: Sequence[int]) -> dict[int, tuple[str, str, str]]:
    """case id → (title, meta, body) of these cases, as their documents hold them: what a
    search marks its hits in, read fresh for the few hits shown."""
    if not case_ids:
        return {}
    rows = list(Case.objects.filter(pk__in=case_ids).values(*TEXT_FIELDS))
    timelines = _timelines([row["id"] for row in rows])
    categories, grids = _categories(), _grid_names(rows)
    return {row["id"]: (row["title"], _meta(row, categories, grids), _body(row, timelines.get(row["id"], ([], ()))[0]))
            for row in rows}


def case_documents(case_ids: Sequence[int]) -> list[CaseDoc]:
    """The documents of these cases (those that exist), not yet segmented."""
    if not case_ids:
        return []
    # The running clock by the lights' own rule, in SQL; a clock still running has no stop moment.
    rows = _fast_rows(Case.objects.filter(pk__in=case_ids).alias(**lights.clock_aliases(None)).values(
        *CASE_FIELDS, clock_due=F("light_due"), clock_warn=F("light_warn"), clock_stopped_at=F("light_judged_at")))
    timelines = _timelines([row["id"] for row in rows])
    categories, grids = _categories(), _grid_names(rows)
    return [_document(row, timelines.get(row["id"], ([], set())), categories, grids) for row in rows]


def _fast_rows(values: QuerySet) -> list[dict]:
    """The rows of a ``values()`` queryset, timestamps read by psycopg's own C loader:
    Django's (pure Python, to set the time zone) took a sixth of a reindex. The session
    runs in UTC, so the datetimes are the same, aware, in UTC."""
    sql, params = values.query.sql_with_params()
    names = [*values.query.values_select, *values.query.annotation_select]
    with connection.cursor() as cursor:
        raw = cursor.cursor
        raw.adapters.register_loader("timestamptz", _C_TIMESTAMPTZ)
        raw.execute(sql, params)
        return [dict(zip(names, row, strict=True)) for row in raw.fetchall()]


_C_TIMESTAMPTZ = pg_adapters.get_loader(pg_types["timestamptz"].oid, Format.TEXT)


def _grid_names(rows: list[dict]) -> dict[int, str]:
    return dict(OrgUnit.objects.filter(pk__in={row["grid_id"] for row in rows if row["grid_id"]})
                .values_list("pk", "name"))


def _meta(row: dict, categories: dict, grids: dict) -> str:
    """What the case is and where: category group and leaf, address, grid."""
    _leaf_code, leaf_name, _group_code, group_name = categories.get(row["category_id"], ("", "", "", ""))
    return "\n".join(part for part in (group_name, leaf_name, row["address"], grids.get(row["grid_id"], "")) if part)


def _body(row: dict, comments: list[str]) -> str:
    """What was said of it: description, handling result, timeline comments."""
    return "\n".join(part for part in (row["description"], row["result"], *comments) if part)


def iter_all_case_ids(batch: int) -> Iterator[list[int]]:
    """Every case's id in batches, by keyset (no OFFSET over a million rows)."""
    last = 0
    while True:
        ids = list(Case.objects.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:batch])
        if not ids:
            return
        yield ids
        last = ids[-1]


def _document(row: dict, timeline: tuple[list[str], set[int]], categories: dict, grids: dict) -> CaseDoc:
    comments, held = timeline
    leaf_code, _leaf_name, group_code, _group_name = categories.get(row["category_id"], ("", "", "", ""))
    if row["department_id"]:
        held = held | {row["department_id"]}
    return CaseDoc(
        case_id=row["id"], number=row["number"], title=row["title"], meta=_meta(row, categories, grids),
        body=_body(row, comments),
        status=row["status"], category_codes=[code for code in (leaf_code, group_code) if code],
        source=row["source"], urgency=row["urgency"], org_path=row["org_path"], department_id=row["department_id"],
        held_departments=sorted(held), reporter_id=row["reporter_id"], reported_at=row["reported_at"],
        clock_due=row["clock_due"], clock_warn=row["clock_warn"], clock_stopped_at=row["clock_stopped_at"],
        is_open=row["status"] in OPEN_STATUSES,
    )


def _timelines(case_ids: Iterable[int]) -> dict[int, tuple[list[str], set[int]]]:
    """Per case: the comments on its timeline in order, and the departments its steps named."""
    found: dict[int, tuple[list[str], set[int]]] = {}
    table = connection.ops.quote_name(CaseEvent._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"""
            SELECT case_id, comment, data->>'department' FROM {table}
            WHERE case_id = ANY(%s) AND (comment <> '' OR data ? 'department')
            ORDER BY case_id, created_at, id
        """, [list(case_ids)])
        for case_id, comment, department in cursor.fetchall():
            comments, held = found.setdefault(case_id, ([], set()))
            if comment:
                comments.append(comment)
            if department and department.isdigit():
                held.add(int(department))
    return found


def _categories() -> dict[int, tuple[str, str, str, str]]:
    """category id → (code, name, group's code, group's name); a few dozen rows per county."""
    rows = {pk: (code, name, parent) for pk, code, name, parent in
            Category.objects.values_list("pk", "code", "name", "parent_id")}
    return {pk: (code, name, *(rows[parent][:2] if parent in rows else ("", "")))
            for pk, (code, name, parent) in rows.items()}
