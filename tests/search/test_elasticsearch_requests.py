"""The Elasticsearch backend's requests, built without a server: the mapping, the search
body (words, scope, filters, lights, facets) and the alias swap of a rebuild. What a
real server answers is the contract tests' business (they run when ELASTICSEARCH_URL
is set)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from civicgrid.platform.cases.selectors import CaseScope
from civicgrid.search.backends import es_mapping as m
from civicgrid.search.backends.elasticsearch import (
    ElasticsearchBackend,
    first_error,
    light_query,
    read_facets,
    scope_query,
    search_body,
    term_query,
)
from civicgrid.search.documents import CaseDoc
from civicgrid.search.query import SearchFilters, SearchRequest

NOW = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
EVERYTHING = CaseScope(everything=True)


def doc(**changes) -> CaseDoc:
    fields = dict(case_id=7, number="SC2025000007", title="楼上漏水", meta="邻里纠纷", body="天花板滴水",
                  status="accepted", category_codes=["DSP-NEIGHBOUR", "DSP"], source="wechat",
                  urgency="normal",
                  org_path="T01/C01/G01/", department_id=3, held_departments=[3], reporter_id=11,
                  reported_at=NOW - timedelta(days=1), clock_due=NOW + timedelta(days=1),
                  clock_warn=NOW + timedelta(hours=12), clock_stopped_at=None, is_open=True)
    fields.update(changes)
    return CaseDoc(**fields).with_words((["楼上", "漏水"], ["邻里", "纠纷"], ["天花板", "滴水"]))


def body_for(scope=EVERYTHING, terms=(("漏水", ()),), **filters) -> dict:
    request = SearchRequest(text="漏水", scope=scope, filters=SearchFilters(**filters), now=NOW)
    return search_body("shangcheng", request, list(terms), NOW)


def filters_of(body: dict) -> list[dict]:
    return body["query"]["bool"]["filter"]


def test_the_mapping_is_strict_and_holds_the_tenant_the_cjk_bigrams_and_jiebas_words():
    mapping = m.mappings("standard")
    properties = mapping["properties"]
    assert mapping["dynamic"] == "strict" and mapping["_routing"] == {"required": True}
    assert properties["tenant"] == {"type": "keyword"}
    for field in ("title", "meta", "body"):
        assert properties[field]["fields"]["cjk"] == {"type": "text", "analyzer": "cjk"}
        assert properties[f"words_{field}"] == {"type": "text", "analyzer": "whitespace"}
    assert properties["org_path"]["type"] == "keyword" and properties["held_departments"]["type"] == "long"
    assert mapping["_meta"] == {"mapping_version": m.MAPPING_VERSION, "analysis": "standard",
                                "analyzer": "standard", "search_analyzer": "standard"}
    # A strict mapping refuses a document with a field it does not know.
    assert set(m.source("shangcheng", doc(), NOW)) == set(properties)


def test_a_chinese_analysis_plugin_is_used_when_every_node_has_it():
    assert m.choose_analysis(set()) == "standard"
    assert m.choose_analysis({"analysis-smartcn"}) == "analysis-smartcn"
    assert m.choose_analysis({"analysis-smartcn", "analysis-ik"}) == "analysis-ik"
    title = m.mappings("analysis-ik")["properties"]["title"]
    assert (title["analyzer"], title["search_analyzer"]) == ("ik_max_word", "ik_smart")
    assert title["fields"]["cjk"]["analyzer"] == "cjk"  # the bigrams stay whatever the plugin


def test_a_document_is_the_tenants_with_jiebas_words_by_field_and_the_leaf_category():
    source = m.source("shangcheng", doc(), NOW)
    assert source["tenant"] == "shangcheng" and m.doc_id("shangcheng", 7) == "shangcheng:7"
    words = (source["words_title"], source["words_meta"], source["words_body"])
    assert words == ("楼上 漏水", "邻里 纠纷", "天花板 滴水")
    assert source["category_leaf"] == "DSP-NEIGHBOUR" and source["stopped_light"] is None


def test_a_stopped_clock_keeps_the_light_it_stopped_with():
    assert m.stopped_light(doc(clock_stopped_at=NOW + timedelta(days=2))) == "red"
    assert m.stopped_light(doc(clock_stopped_at=NOW + timedelta(hours=13))) == "yellow"
    assert m.stopped_light(doc(clock_stopped_at=NOW)) == "green"
    assert m.stopped_light(doc(clock_stopped_at=NOW + timedelta(hours=13), clock_warn=None)) == "green"


def test_every_query_word_must_match_and_the_title_weighs_most():
    body = body_for(terms=[("漏水", ()), ("东坡路", ("东坡", "路"))])
    must = body["query"]["bool"]["must"]
    assert len(must) == 2 and all(term["bool"]["minimum_should_match"] == 1 for term in must)
    alternatives = must[0]["bool"]["should"]
    boosts = {field: clause["term"][field]["boost"] for clause in alternatives if "term" in clause
              for field in clause["term"]}
    assert boosts["words_title"] > boosts["words_meta"] > boosts["words_body"]
    assert {"match_phrase": {"title.cjk": {"query": "漏水", "boost": 2.5}}} in alternatives
    # A word that splits: the word itself, or every one of its pieces.
    pieces = [clause for clause in term_query("东坡路", ("东坡", "路"))["bool"]["should"]
              if "must" in clause.get("bool", {})]
    assert len(pieces) == 1 and len(pieces[0]["bool"]["must"]) == 2
    assert body["sort"] == [{"_score": "desc"}, {"reported_at": "desc"}, {"case_id": "desc"}]
    assert body["track_total_hits"] is True and (body["from"], body["size"]) == (0, 20)


def test_a_department_and_an_area_admit_their_cases_and_the_tenant_is_filtered_besides_the_alias():
    filters = filters_of(body_for(scope=CaseScope(department_id=5, org_path="T01/")))
    assert filters[0] == {"term": {"tenant": "shangcheng"}}
    assert {"bool": {"should": [{"term": {"held_departments": 5}}, {"prefix": {"org_path": "T01/"}}],
                     "minimum_should_match": 1}} in filters


def test_a_scope_without_terms_matches_nothing_and_everything_adds_no_clause():
    assert scope_query(CaseScope()) == {"match_none": {}}
    assert {"match_none": {}} in filters_of(body_for(scope=CaseScope()))
    assert scope_query(EVERYTHING) is None
    assert filters_of(body_for()) == [{"term": {"tenant": "shangcheng"}}]


def test_filters_become_terms_prefixes_and_ranges():
    after, before = NOW - timedelta(days=7), NOW
    filters = filters_of(body_for(statuses=("reported", "accepted"), category="DSP", department_id=3,
                                  org_path="T02/", reported_after=after, reported_before=before))
    assert {"terms": {"status": ["reported", "accepted"]}} in filters
    assert {"term": {"category_codes": "DSP"}} in filters  # a group's code: its leaves too
    assert {"term": {"department_id": 3}} in filters and {"prefix": {"org_path": "T02/"}} in filters
    assert {"range": {"reported_at": {"gte": after.isoformat(), "lt": before.isoformat()}}} in filters


def _running(query: dict) -> dict:
    """The running-clock half of a light query (the other is the stored light of a stopped clock)."""
    is_open, either = query["bool"]["filter"]
    assert is_open == {"term": {"is_open": True}}
    stopped, running = either["bool"]["should"]
    assert stopped["term"]["stopped_light"] in ("red", "yellow", "green")
    assert {"exists": {"field": "stopped_light"}} in running["bool"]["must_not"]
    return running["bool"]


def test_lights_are_read_at_the_moment_asked():
    past_due = {"range": {"clock_due": {"lt": NOW.isoformat()}}}
    warned = {"range": {"clock_warn": {"lte": NOW.isoformat()}}}
    red, yellow, green = (_running(light_query(light, NOW)) for light in ("red", "yellow", "green"))
    assert red["filter"] == [past_due]
    assert yellow["filter"] == [warned] and past_due in yellow["must_not"]
    assert "filter" not in green and past_due in green["must_not"] and warned in green["must_not"]
    assert light_query("purple", NOW) == {"match_none": {}}
    assert light_query("red", NOW) in filters_of(body_for(light="red"))


def test_facets_come_back_in_the_postgres_backends_shape():
    body = body_for()
    assert body["aggs"]["category"]["terms"]["field"] == "category_leaf"
    assert set(body["aggs"]["light"]["filters"]["filters"]) == {"green", "yellow", "red"}
    buckets = {"status": {"buckets": [{"key": "reported", "doc_count": 2}]}, "category": {"buckets": []},
               "source": {"buckets": [{"key": "wechat", "doc_count": 2}]},
               "department": {"buckets": [{"key": 12, "doc_count": 1}]},
               "light": {"buckets": {"green": {"doc_count": 2}, "yellow": {"doc_count": 0},
                                     "red": {"doc_count": 0}}}}
    assert read_facets(buckets) == {"status": {"reported": 2}, "category": {}, "source": {"wechat": 2},
                                    "department": {"12": 1}, "light": {"green": 2}}
    no_facets = search_body("shangcheng", SearchRequest(text="漏水", scope=EVERYTHING, facets=False),
                            [("漏水", ())], NOW)
    assert "aggs" not in no_facets


def test_a_rebuild_moves_every_alias_in_one_call():
    actions = m.swap_actions("cases", "cases-v1", "cases-v2", ["shangcheng", "yuhang"])
    assert {"remove": {"index": "cases-v1", "alias": "cases"}} in actions
    assert {"add": {"index": "cases-v2", "alias": "cases"}} in actions
    assert {"remove": {"index": "cases-v2", "alias": "cases.next"}} in actions
    for schema in ("shangcheng", "yuhang"):
        alias = m.tenant_alias("cases", schema)
        assert {"remove": {"index": "cases-v1", "alias": alias}} in actions
        assert {"add": {"index": "cases-v2", "alias": alias, "filter": {"term": {"tenant": schema}},
                        "routing": schema}} in actions
    assert len(actions) == 3 + 2 * 2


def test_a_bulk_failure_names_the_first_failed_item_and_a_missing_delete_is_none():
    items = [{"delete": {"_index": "cases-v1", "_id": "s:1", "status": 404, "result": "not_found"}},
             {"index": {"_index": "cases-v1", "_id": "s:2", "status": 400,
                        "error": {"type": "strict_dynamic_mapping_exception", "reason": "no field [x]"}}}]
    assert first_error(items[:1]) is None
    assert first_error(items) == "cases-v1/s:2: strict_dynamic_mapping_exception: no field [x]"


def test_the_backend_connects_only_when_used_and_an_empty_query_asks_nothing():
    engine = ElasticsearchBackend("http://127.0.0.1:9", index="cases")  # nothing listens there
    assert engine._client is None and engine.index_name == "cases" and callable(engine.index)
    result = engine.search("shangcheng", SearchRequest(text=" 的 ", scope=EVERYTHING))
    assert (result.hits, result.total) == ([], 0) and engine._client is None
