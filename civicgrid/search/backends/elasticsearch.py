"""Elasticsearch: one shared index for every tenant, read through per-tenant aliases.

Uses the official ``elasticsearch`` client pinned by the project (9.x). A 9.x client
talks to 9.x servers; an 8.x server needs the 8.x client pinned instead.

Layout (names in ``es_mapping``): a physical index ``<index>-v<MAPPING_VERSION>``
behind the alias ``<index>``, which every write goes through. Documents carry a
keyword ``tenant`` (the schema), are routed by it and have the id ``<schema>:<case>``.
Each tenant gets a filtered alias ``<index>-<schema>`` (term ``tenant``, routing
``schema``), made by ``prepare`` or lazily on first use; searches and counts read
that alias *and* filter on ``tenant`` with the same routing, so a mistake in one
still never shows a tenant another's cases.

Matching is the PostgreSQL backend's: jieba's words of each field are indexed as
whitespace-separated ``words_*`` fields and every query term must be there (the
word or all its pieces); a phrase over the CJK bigram sub-field ``.cjk`` is the
fallback when jieba cut the document differently. The text fields also get the
server's Chinese analyzer (IK or smartcn if every node has it, else standard).
Lights need no scripts: a stopped clock's light is stored (``stopped_light``), a
running clock is compared with the moment asked by range queries. Highlights are
the project's own (``highlight.hit_highlight``), not Elasticsearch's.

Rebuilding without downtime (``rebuild``): create the next physical index with the
extra alias ``<index>.next``; while that alias exists every live write (bulk,
delete) goes to ``<index>`` *and* ``<index>.next``, so nothing written meanwhile is
lost. Every tenant is then written into the new index, and one ``update_aliases``
call moves ``<index>`` and every tenant alias to it and drops ``<index>.next``;
the old index is deleted last. A writer caught by the swap fails on the vanished
``.next`` alias and its queue rows wait for the next drain. (Writers look for
``.next`` once per call: one HEAD request, so every process sees a rebuild start.
As with ``indexing.reindex``, a batch read before a live change may still land
after it; the case's next change sets it right.)

Searches are bounded by ``CIVICGRID_SEARCH_TIMEOUT_MS``, writes and index
management get longer. Every client error (connection, timeout, refusal) is
raised as ``SearchUnavailable``.
"""

from __future__ import annotations

import copy
import logging
import threading
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime

from django.conf import settings
from django.utils import timezone
from django_tenants.utils import schema_context
from elasticsearch import ApiError, BadRequestError, Elasticsearch, TransportError

from civicgrid.platform.cases.selectors import CaseScope

from .. import highlight
from ..documents import CaseDoc
from ..query import FACETS, LIGHTS, Hit, SearchFilters, SearchRequest, SearchResult, SearchUnavailable
from ..segment import query_terms
from . import es_mapping as m
from .base import Health, SearchBackend

logger = logging.getLogger(__name__)
# Per-field weights in the ratio of ts_rank's defaults for A, B, C (1, 0.4, 0.2).
BOOSTS = {"title": 5.0, "meta": 2.0, "body": 1.0}
FALLBACK_BOOST = 0.5  # a bigram phrase counts for less than one of jieba's words
TERMS_FACETS = {"status": "status", "category": "category_leaf", "source": "source",
                "department": "department_id"}
FACET_SIZE = 1000  # every value, as the PostgreSQL backend counts them
REFRESH_BELOW = 100  # the live indexer's batches are seen at once; a reindex's at its end
WRITE_TIMEOUT = 60.0
ADMIN_TIMEOUT = 600.0
HEALTH_TIMEOUT = 2.0


# --- queries (pure: see tests/search/test_elasticsearch_requests.py) ----------------------


def _any(clauses: list[dict]) -> dict:
    return {"bool": {"should": clauses, "minimum_should_match": 1}}


def _word_clauses(word: str) -> list[dict]:
    return [{"term": {m.words_field(field): {"value": word, "boost": boost}}}
            for field, boost in BOOSTS.items()]


def term_query(word: str, pieces: tuple[str, ...]) -> dict:
    """One query term (``postgres.tsquery``): the word among jieba's words, or all of its
    pieces, or else the word as a phrase of CJK bigrams; the title scoring highest."""
    alternatives = _word_clauses(word)
    if pieces:
        alternatives.append({"bool": {"must": [_any(_word_clauses(piece)) for piece in pieces]}})
    alternatives += [{"match_phrase": {f"{field}.cjk": {"query": word, "boost": boost * FALLBACK_BOOST}}}
                     for field, boost in BOOSTS.items()]
    return _any(alternatives)


def scope_query(scope: CaseScope) -> dict | None:
    """What the asker may see (``postgres._where``): None for everything, else any term's
    cases; no term at all admits nothing."""
    if scope.everything:
        return None
    admitted = []
    if scope.department_id:
        admitted.append({"term": {"held_departments": scope.department_id}})
    if scope.org_path:
        admitted.append({"prefix": {"org_path": scope.org_path}})
    if scope.reporter_id:
        admitted.append({"term": {"reporter_id": scope.reporter_id}})
    return _any(admitted) if admitted else {"match_none": {}}


def light_query(light: str, now: datetime) -> dict:
    """Open cases showing ``light`` at ``now``: a stopped clock by its stored light, a
    running one by its deadlines (red: past due; yellow: warned, not yet due)."""
    if light not in LIGHTS:
        return {"match_none": {}}
    past_due = {"range": {"clock_due": {"lt": now.isoformat()}}}
    warned = {"range": {"clock_warn": {"lte": now.isoformat()}}}
    running = {"exists": {"field": "stopped_light"}}  # in must_not: the clock runs
    must, must_not = {"red": ([past_due], []), "yellow": ([warned], [past_due]),
                      "green": ([], [past_due, warned])}[light]
    by_deadlines = {"bool": {"must_not": [running, *must_not], **({"filter": must} if must else {})}}
    return {"bool": {"filter": [{"term": {"is_open": True}},
                                _any([{"term": {"stopped_light": light}}, by_deadlines])]}}


def filter_clauses(f: SearchFilters, now: datetime) -> list[dict]:
    clauses: list[dict] = [{"terms": {"status": list(f.statuses)}}] if f.statuses else []
    # category_codes holds the leaf's code and its group's: a group finds its leaves.
    for field, value in (("category_codes", f.category), ("source", f.source), ("urgency", f.urgency),
                         ("department_id", f.department_id), ("reporter_id", f.reporter_id)):
        if value not in (None, ""):  # department 0: an unknown department, which holds nothing
            clauses.append({"term": {field: value}})
    if f.org_path:
        clauses.append({"prefix": {"org_path": f.org_path}})
    bounds = (("gte", f.reported_after), ("lt", f.reported_before))
    reported = {op: moment.isoformat() for op, moment in bounds if moment}
    if reported:
        clauses.append({"range": {"reported_at": reported}})
    if f.light:
        clauses.append(light_query(f.light, now))
    return clauses


def facet_aggs(now: datetime) -> dict:
    aggs: dict = {facet: {"terms": {"field": field, "size": FACET_SIZE}}
                  for facet, field in TERMS_FACETS.items()}
    aggs["light"] = {"filters": {"filters": {light: light_query(light, now) for light in LIGHTS}}}
    return aggs


def search_body(schema: str, request: SearchRequest, terms: list[tuple[str, tuple[str, ...]]],
                now: datetime) -> dict:
    filters = [{"term": {"tenant": schema}}]  # besides the alias's own filter: never another tenant's
    scope = scope_query(request.scope)
    if scope is not None:
        filters.append(scope)
    filters += filter_clauses(request.filters, now)
    must = [term_query(word, pieces) for word, pieces in terms]
    body = {"query": {"bool": {"must": must, "filter": filters}},
            "sort": [{"_score": "desc"}, {"reported_at": "desc"}, {"case_id": "desc"}],
            "from": request.offset, "size": request.limit, "track_total_hits": True,
            "_source": ["case_id", "title", "meta", "body"]}
    if request.facets:
        body["aggs"] = facet_aggs(now)
    return body


def read_facets(aggregations: dict) -> dict[str, dict[str, int]]:
    """The PostgreSQL backend's shape: facet → {value as text: count}, no empty values."""
    facets: dict[str, dict[str, int]] = {name: {} for name in FACETS}
    for facet in TERMS_FACETS:
        facets[facet] = {str(bucket["key"]): bucket["doc_count"] for bucket in aggregations[facet]["buckets"]}
    lights = aggregations["light"]["buckets"]
    facets["light"] = {light: bucket["doc_count"] for light, bucket in lights.items() if bucket["doc_count"]}
    return facets


def first_error(items: list[dict]) -> str | None:
    """The first failed item of a bulk response (a delete of a missing document is no failure)."""
    for item in items:
        for result in item.values():
            if "error" in result:
                error = result["error"]
                reason = f"{error.get('type')}: {error.get('reason')}" if isinstance(error, dict) else error
                return f"{result.get('_index')}/{result.get('_id')}: {reason}"
    return None


@contextmanager
def _unavailable(what: str):
    try:
        yield
    except (ApiError, TransportError) as exc:
        raise SearchUnavailable(f"Elasticsearch {what}: {exc}") from exc


def reindex_from_database(schema: str, target: SearchBackend) -> None:
    """The default way ``rebuild`` fills a tenant: ``indexing.reindex`` written into ``target``."""
    from ..indexing import reindex

    with schema_context(schema):
        reindex(engine=target)


class ElasticsearchBackend(SearchBackend):
    name = "elasticsearch"

    def __init__(self, url: str, *, index: str):
        # Not ``self.index``: that is the interface's method for one document.
        self.url, self.index_name = url, index
        self._client: Elasticsearch | None = None
        self._lock = threading.Lock()
        self._index_ready = False
        self._prepared: set[str] = set()  # tenants whose alias this process has seen
        self._only_into: str | None = None  # a rebuild's writer: this alias alone

    def _es(self) -> Elasticsearch:
        """The client, made on first use (no connection before). Its timeout is the search's;
        one retry for a dropped connection, none after a timeout: the caller falls back."""
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = Elasticsearch(self.url, max_retries=1, retry_on_timeout=False,
                                                 request_timeout=settings.CIVICGRID_SEARCH_TIMEOUT_MS / 1000)
        return self._client

    def _admin(self, timeout: float = ADMIN_TIMEOUT) -> Elasticsearch:
        return self._es().options(request_timeout=timeout)

    # --- the index and the aliases -------------------------------------------------------

    def _analysis(self) -> str:
        """The Chinese analysis every node can run (an index needing a plugin some node
        lacks could not be allocated there)."""
        try:
            nodes = self._es().nodes.info(metric="plugins")["nodes"].values()
        except ApiError:  # not allowed to ask (a restricted user): built-in analysis only
            return "standard"
        installed = [{plugin["name"] for plugin in node.get("plugins", ())} for node in nodes]
        return m.choose_analysis(set.intersection(*installed) if installed else set())

    def _create(self, name: str, aliases: dict) -> None:
        self._admin().indices.create(index=name, mappings=m.mappings(self._analysis()), aliases=aliases)

    def _ensure_index(self) -> None:
        if self._index_ready:
            return
        if not self._es().indices.exists_alias(name=self.index_name):
            try:
                self._create(m.physical_name(self.index_name), aliases={self.index_name: {}})
            except BadRequestError as exc:
                if exc.error != "resource_already_exists_exception":  # else another process was first
                    raise
        self._index_ready = True

    def _physical(self, alias: str) -> list[str]:
        return sorted(self._es().indices.get_alias(name=alias).body)

    def _tenants(self, physical: str) -> list[str]:
        """The schemas with an alias on this physical index (read back from the aliases' routing)."""
        aliases = self._es().indices.get_alias(index=physical).body[physical]["aliases"]
        return sorted(spec["index_routing"] for name, spec in aliases.items()
                      if name.startswith(f"{self.index_name}-") and "index_routing" in spec)

    def prepare(self, schema: str) -> None:
        with _unavailable("prepare"):
            self._prepare(schema)

    def _prepare(self, schema: str) -> None:
        alias = m.tenant_alias(self.index_name, schema)
        self._ensure_index()
        if not self._es().indices.exists_alias(name=alias):
            for physical in self._physical(self.index_name):  # an alias action needs the concrete index
                self._admin().indices.put_alias(index=physical, name=alias, **m.tenant_alias_body(schema))
        self._prepared.add(schema)

    def _ensure_tenant(self, schema: str) -> None:
        """The tenant's alias, made on first use in this process (so a tenant never
        prepared is searched, counted and written all the same)."""
        if schema not in self._prepared:
            self._prepare(schema)

    def _write_targets(self) -> list[str]:
        """Where writes go: the write alias, and the next index too while a rebuild fills it."""
        if self._only_into:
            return [self._only_into]
        rebuilding = m.rebuild_alias(self.index_name)
        if self._es().indices.exists_alias(name=rebuilding):
            return [self.index_name, rebuilding]
        return [self.index_name]

    # --- writing ---------------------------------------------------------------------------

    def bulk(self, schema: str, docs: Sequence[CaseDoc]) -> int:
        if not docs:
            return 0
        now = timezone.now()
        sources = [(m.doc_id(schema, doc.case_id), m.source(schema, doc, now)) for doc in docs]
        with _unavailable("bulk"):
            self._ensure_tenant(schema)
            operations = [line for target in self._write_targets() for doc_id, body in sources
                          for line in ({"index": {"_index": target, "_id": doc_id, "routing": schema}}, body)]
            self._write(operations, refresh=len(docs) < REFRESH_BELOW)
        return len(docs)

    def delete(self, schema: str, case_ids: Sequence[int]) -> None:
        if not case_ids:
            return
        with _unavailable("delete"):
            self._ensure_tenant(schema)
            self._write([{"delete": {"_index": target, "_id": m.doc_id(schema, case_id), "routing": schema}}
                         for target in self._write_targets() for case_id in case_ids],
                        refresh=len(case_ids) < REFRESH_BELOW)

    def _write(self, operations: list[dict], *, refresh: bool) -> None:
        # require_alias: a write never creates an index with a guessed mapping.
        response = self._admin(WRITE_TIMEOUT).bulk(operations=operations, refresh=refresh, require_alias=True)
        if response["errors"]:
            raise SearchUnavailable(f"Elasticsearch bulk: {first_error(response['items'])}")

    def finish_reindex(self, schema: str) -> None:
        with _unavailable("refresh"):
            self._admin().indices.refresh(index=",".join(self._write_targets()))

    def drop_tenant(self, schema: str) -> None:
        alias = m.tenant_alias(self.index_name, schema)
        with _unavailable("drop tenant"):
            admin = self._admin()
            admin.delete_by_query(index=",".join(self._write_targets()), query={"term": {"tenant": schema}},
                                  routing=schema, conflicts="proceed", refresh=True, ignore_unavailable=True)
            if admin.indices.exists_alias(name=alias):
                admin.indices.delete_alias(index=",".join(self._physical(alias)), name=alias)
        self._prepared.discard(schema)

    # --- reading ---------------------------------------------------------------------------

    def search(self, schema: str, request: SearchRequest) -> SearchResult:
        terms = query_terms(request.text)
        if not terms:
            return SearchResult(hits=[], total=0)
        body = search_body(schema, request, terms, request.now or timezone.now())
        with _unavailable("search"):
            self._ensure_tenant(schema)
            alias = m.tenant_alias(self.index_name, schema)
            response = self._es().search(index=alias, routing=schema, body=body)
        words = highlight.query_marks(request.text)
        hits = [_hit(raw, words) for raw in response["hits"]["hits"]]
        facets = read_facets(response["aggregations"]) if request.facets else {}
        return SearchResult(hits=hits, total=response["hits"]["total"]["value"], facets=facets)

    def count(self, schema: str) -> int:
        with _unavailable("count"):
            self._ensure_tenant(schema)
            return self._es().count(index=m.tenant_alias(self.index_name, schema), routing=schema,
                                    query={"term": {"tenant": schema}})["count"]

    def health(self) -> Health:
        try:
            state = self._admin(HEALTH_TIMEOUT).cluster.health()
        except (ApiError, TransportError) as exc:
            return Health(ok=False, backend=self.name, detail=str(exc))
        return Health(ok=state["status"] != "red", backend=self.name,
                      detail=f"cluster {state['cluster_name']}: {state['status']}")

    # --- rebuilding behind the aliases -------------------------------------------------------

    def rebuild(self, reindex_tenant: Callable[[str, SearchBackend], object] = reindex_from_database) -> str:
        """Rebuild every tenant into a new physical index and swap the aliases to it (see the
        module's docstring). ``reindex_tenant(schema, target)`` writes one tenant's documents
        through ``target.bulk``. Returns the new index's name."""
        next_alias = m.rebuild_alias(self.index_name)
        with _unavailable("rebuild"):
            self._ensure_index()
            if self._es().indices.exists_alias(name=next_alias):
                raise SearchUnavailable("Elasticsearch rebuild: another rebuild is running")
            [old] = self._physical(self.index_name)
            new = self._next_name(old)
            self._create(new, aliases={next_alias: {}})
        try:
            with _unavailable("rebuild"):
                target = self._writing_only_to(next_alias)
                for schema in self._tenants(old):
                    reindex_tenant(schema, target)
                self._admin().indices.refresh(index=new)
                # The tenants read again: one prepared meanwhile moves too.
                swap = m.swap_actions(self.index_name, old, new, self._tenants(old))
                self._admin().indices.update_aliases(actions=swap)
        except BaseException:
            self._abandon(new)
            raise
        with _unavailable("rebuild"):
            self._admin().indices.delete(index=old)
        return new

    def _next_name(self, old: str) -> str:
        name = m.physical_name(self.index_name)
        if name == old or self._es().indices.exists(index=name):  # the same version rebuilt again
            name = m.physical_name(self.index_name, datetime.now(UTC).strftime("-%Y%m%d%H%M%S"))
        return name

    def _writing_only_to(self, alias: str) -> ElasticsearchBackend:
        """This backend, writing into ``alias`` alone (the same client and aliases)."""
        target = copy.copy(self)
        target._only_into = alias
        return target

    def _abandon(self, new: str) -> None:
        """A failed rebuild: the new index goes (and its ``.next`` alias with it, so live
        writes stop going there); the old one stays as it was."""
        try:
            self._admin().indices.delete(index=new)
        except (ApiError, TransportError):
            logger.exception("search: could not delete %s after a failed rebuild; delete it by hand", new)


def _hit(raw: dict, words: list[str]) -> Hit:
    found = raw["_source"]
    return Hit(case_id=found["case_id"], score=float(raw.get("_score") or 0.0),
               highlight=highlight.hit_highlight(found.get("title", ""), found.get("meta", ""),
                                                 found.get("body", ""), words))
