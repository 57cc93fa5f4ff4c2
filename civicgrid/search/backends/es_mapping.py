"""What the Elasticsearch index looks like: names, mapping, analysis, documents.

Pure functions of their arguments (no client, no server), so they can be checked
by unit tests and read in one place. ``elasticsearch.py`` sends them.

Names, for ``index = "civicgrid-cases"``:

* ``civicgrid-cases-v1``: the physical index (``MAPPING_VERSION``; a rebuild at
  the same version gets a time suffix);
* ``civicgrid-cases``: the alias every write goes through;
* ``civicgrid-cases-<schema>``: one filtered alias per tenant (term ``tenant`` and
  routing by schema), the only thing searches and counts read;
* ``civicgrid-cases.next``: exists only while a rebuild fills the next physical
  index; writers seeing it write there too. Schema names cannot hold a dot, so
  it never clashes with a tenant's alias.
"""

from __future__ import annotations

from datetime import datetime

from ..documents import WEIGHT_BODY, WEIGHT_META, WEIGHT_TITLE, CaseDoc

MAPPING_VERSION = 1
# Each text field and the weight of its words in ``CaseDoc.words``.
TEXT_FIELDS = {"title": WEIGHT_TITLE, "meta": WEIGHT_META, "body": WEIGHT_BODY}
# Analysis plugin → (index analyzer, search analyzer), in order of preference.
PLUGIN_ANALYZERS = {"analysis-ik": ("ik_max_word", "ik_smart"), "analysis-smartcn": ("smartcn", "smartcn")}
STANDARD = ("standard", "standard")
KEYWORDS = ("tenant", "number", "status", "category_codes", "category_leaf", "source", "urgency", "org_path",
            "stopped_light")
LONGS = ("case_id", "department_id", "held_departments", "reporter_id")
DATES = ("reported_at", "clock_due", "clock_warn", "clock_stopped_at", "indexed_at")


# --- names ----------------------------------------------------------------------------


def physical_name(index: str, suffix: str = "") -> str:
    return f"{index}-v{MAPPING_VERSION}{suffix}"


def tenant_alias(index: str, schema: str) -> str:
    return f"{index}-{schema.lower()}"  # index and alias names must be lower case


def rebuild_alias(index: str) -> str:
    return f"{index}.next"


def words_field(field: str) -> str:
    """Where jieba's words of a text field are, so matching is the PostgreSQL backend's."""
    return f"words_{field}"


def tenant_alias_body(schema: str) -> dict:
    """The filter and routing that make an alias show one tenant's documents only."""
    return {"filter": {"term": {"tenant": schema}}, "routing": schema}


def doc_id(schema: str, case_id: int) -> str:
    return f"{schema}:{case_id}"


def swap_actions(index: str, old: str, new: str, schemas: list[str]) -> list[dict]:
    """One ``update_aliases`` body moving the write alias and every tenant alias from the
    old physical index to the new one, and ending the rebuild: all or nothing."""
    actions = [{"remove": {"index": old, "alias": index}},
               {"add": {"index": new, "alias": index}},
               {"remove": {"index": new, "alias": rebuild_alias(index)}}]
    for schema in schemas:
        alias = tenant_alias(index, schema)
        actions.append({"remove": {"index": old, "alias": alias}})
        actions.append({"add": {"index": new, "alias": alias, **tenant_alias_body(schema)}})
    return actions


# --- mapping and analysis ----------------------------------------------------------------


def choose_analysis(plugins: set[str]) -> str:
    """The analysis plugin every node has (IK, else smartcn), else ``"standard"``."""
    return next((plugin for plugin in PLUGIN_ANALYZERS if plugin in plugins), "standard")


def _text(analyzer: str, search_analyzer: str) -> dict:
    # The CJK bigrams match Chinese whatever plugins the server has.
    return {"type": "text", "analyzer": analyzer, "search_analyzer": search_analyzer,
            "fields": {"cjk": {"type": "text", "analyzer": "cjk"}}}


def mappings(analysis: str) -> dict:
    """The index's mapping for the analysis ``choose_analysis`` picked (recorded in ``_meta``)."""
    analyzer, search_analyzer = PLUGIN_ANALYZERS.get(analysis, STANDARD)
    properties: dict[str, dict] = {name: {"type": "keyword"} for name in KEYWORDS}
    properties.update({name: {"type": "long"} for name in LONGS})
    properties.update({name: {"type": "date"} for name in DATES})
    properties.update({name: _text(analyzer, search_analyzer) for name in TEXT_FIELDS})
    # Words joined by spaces: jieba's words hold none, so each is one token.
    properties.update({words_field(name): {"type": "text", "analyzer": "whitespace"} for name in TEXT_FIELDS})
    properties["is_open"] = {"type": "boolean"}
    return {"dynamic": "strict", "_routing": {"required": True},
            "_meta": {"mapping_version": MAPPING_VERSION, "analysis": analysis, "analyzer": analyzer,
                      "search_analyzer": search_analyzer},
            "properties": properties}


# --- documents ---------------------------------------------------------------------------


def stopped_light(doc: CaseDoc) -> str | None:
    """The light of a stopped clock (it never changes again); None while the clock runs.
    The same comparisons as the PostgreSQL backend's ``LIGHT_SQL``."""
    at = doc.clock_stopped_at
    if at is None:
        return None
    if at > doc.clock_due:
        return "red"
    if doc.clock_warn is not None and at >= doc.clock_warn:
        return "yellow"
    return "green"


def source(schema: str, doc: CaseDoc, now: datetime) -> dict:
    return {
        "tenant": schema, "case_id": doc.case_id, "number": doc.number,
        "title": doc.title, "meta": doc.meta, "body": doc.body,
        **{words_field(name): " ".join(doc.words.get(weight, ())) for name, weight in TEXT_FIELDS.items()},
        "status": doc.status, "category_codes": doc.category_codes,
        # The leaf's code alone, for the category facet (PostgreSQL's category_codes[1]).
        "category_leaf": doc.category_codes[0] if doc.category_codes else None,
        "source": doc.source, "urgency": doc.urgency, "org_path": doc.org_path,
        "department_id": doc.department_id, "held_departments": doc.held_departments,
        "reporter_id": doc.reporter_id, "reported_at": doc.reported_at, "clock_due": doc.clock_due,
        "clock_warn": doc.clock_warn, "clock_stopped_at": doc.clock_stopped_at,
        "stopped_light": stopped_light(doc), "is_open": doc.is_open, "indexed_at": now,
    }
