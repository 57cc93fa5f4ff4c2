"""One contract for every search backend: PostgreSQL always, Elasticsearch when
``ELASTICSEARCH_URL`` names a server (skipped otherwise, with that reason).

Cases are reported and moved through the real actions, relayed through the
outbox (which queues them) and indexed by the indexer; the tests then ask the
backend directly with the request the selectors would build."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from django.utils import timezone, translation
from django_tenants.utils import tenant_context

from civicgrid.platform.cases import actions
from civicgrid.platform.cases.models import Source
from civicgrid.platform.cases.selectors import CaseScope, scope_of
from civicgrid.search.backends.postgres import PostgresBackend
from civicgrid.search.query import SearchFilters, SearchRequest
from tests.platform.cases.test_workflow import handler, staff
from tests.search.helpers import IN_T02, index_now, report

EVERYTHING = CaseScope(everything=True)


def _elasticsearch():
    url = os.environ.get("ELASTICSEARCH_URL")
    if not url:
        pytest.skip("ELASTICSEARCH_URL is unset: no Elasticsearch server on this machine")
    from civicgrid.search.backends.elasticsearch import ElasticsearchBackend

    return ElasticsearchBackend(url, index=f"civicgrid-test-{os.getpid()}")


@pytest.fixture(params=["postgres", "elasticsearch"])
def engine(request, world, settings):
    found = PostgresBackend() if request.param == "postgres" else _elasticsearch()
    from civicgrid.search import backends

    backends.backend.cache_clear()
    # The indexer and the selectors use the backend under test.
    original = backends.backend
    backends.backend = lambda: found
    import civicgrid.search.indexing as indexing
    import civicgrid.search.selectors as selectors

    indexing.backend, selectors.backend = backends.backend, backends.backend
    with tenant_context(world.shangcheng), translation.override("en"):
        found.prepare("shangcheng")
        yield found
    indexing.backend, selectors.backend = original, original
    backends.backend = original
    if request.param == "elasticsearch":
        found.drop_tenant("shangcheng")
        found.drop_tenant("yuhang")


def ask(engine, text, scope=EVERYTHING, schema="shangcheng", **filters):
    return engine.search(schema, SearchRequest(text=text, scope=scope, filters=SearchFilters(**filters),
                                               now=timezone.now()))


def ids(result) -> list[int]:
    return [hit.case_id for hit in result.hits]


def test_a_word_of_the_title_finds_the_case(engine):
    leak = report("楼上漏水严重", "天花板一直滴水")
    report("路灯不亮", "晚上很黑")
    index_now()
    assert ids(ask(engine, "漏水")) == [leak.pk]
    assert ids(ask(engine, "漏水 严重")) == [leak.pk]
    assert ids(ask(engine, "漏水 路灯")) == []


def test_words_only_in_the_description_or_a_timeline_comment_find_the_case(engine):
    case = report("邻里矛盾", "楼下住户反映噪音扰民")
    actions.accept_case(staff=staff("shangcheng_operator"), case_id=case.pk, comment="业主电话无人接听")
    index_now()
    assert ids(ask(engine, "噪音扰民")) == [case.pk]
    assert ids(ask(engine, "无人接听")) == [case.pk]


def test_the_title_ranks_above_the_description(engine):
    in_body = report("邻里争吵", "起因是楼上漏水")
    in_title = report("楼上漏水", "邻里争吵")
    index_now()
    assert ids(ask(engine, "漏水")) == [in_title.pk, in_body.pk]


def test_filters_narrow_and_facets_count_the_matches(engine):
    now = timezone.now()
    first = report("占道经营 水果摊", source=Source.HOTLINE_12345)
    second = report("占道经营 早餐车", source=Source.WECHAT, category="URB-STREET-VENDOR")
    third = report("占道经营 夜市", source=Source.WECHAT, category="URB-STREET-VENDOR", where=IN_T02)
    operator = staff("shangcheng_operator")
    actions.accept_case(staff=operator, case_id=second.pk)
    actions.dispatch_case(staff=operator, case_id=second.pk, department="D-SAMR")
    index_now()

    everything = ask(engine, "占道经营")
    assert set(ids(everything)) == {first.pk, second.pk, third.pk} and everything.total == 3
    assert everything.facets["source"] == {"hotline_12345": 1, "wechat": 2}
    assert everything.facets["status"] == {"reported": 2, "dispatched": 1}
    assert everything.facets["category"] == {"DSP-NEIGHBOUR": 1, "URB-STREET-VENDOR": 2}
    assert everything.facets["light"] == {"green": 3}
    second.refresh_from_db()
    assert everything.facets["department"] == {str(second.department_id): 1}

    assert ids(ask(engine, "占道经营", source="wechat", statuses=("reported",))) == [third.pk]
    assert set(ids(ask(engine, "占道经营", category="URB"))) == {second.pk, third.pk}  # a group: its leaves
    assert ids(ask(engine, "占道经营", department_id=second.department_id)) == [second.pk]
    assert set(ids(ask(engine, "占道经营", org_path="T01/"))) == {first.pk, second.pk}
    assert ids(ask(engine, "占道经营", org_path="T02/")) == [third.pk]
    assert ids(ask(engine, "占道经营", reported_after=now + timedelta(hours=1))) == []
    assert len(ids(ask(engine, "占道经营", reported_after=now - timedelta(hours=1),
                       reported_before=now + timedelta(hours=1)))) == 3
    assert ids(ask(engine, "占道经营", light="red")) == []
    assert len(ids(ask(engine, "占道经营", light="green"))) == 3
    # A month on, every running clock is past its deadline: the lights are read at the moment asked.
    later = engine.search("shangcheng", SearchRequest(text="占道经营", scope=EVERYTHING,
                                                      filters=SearchFilters(light="red"),
                                                      now=timezone.now() + timedelta(days=30)))
    assert set(ids(later)) == {first.pk, second.pk, third.pk}


def test_highlights_mark_the_words_and_escape_everything_else(engine):
    case = report("<script>alert(1)</script>楼上漏水", "漏水已经三天<b>无人管</b>")
    index_now()
    [hit] = ask(engine, "漏水").hits
    assert hit.case_id == case.pk
    assert "<script>" not in hit.highlight["title"] and "&lt;script&gt;" in hit.highlight["title"]
    assert "<mark>漏水</mark>" in hit.highlight["title"]
    assert "<b>" not in hit.highlight["text"] and "<mark>漏水</mark>" in hit.highlight["text"]


def test_another_tenant_finds_nothing_of_this_one(engine, world):
    report("独居老人 无人照料")
    index_now()
    assert ask(engine, "独居老人").total == 1
    with tenant_context(world.yuhang):
        assert ask(engine, "独居老人", schema="yuhang").total == 0


def test_a_scope_sees_only_its_cases_in_hits_and_counts(engine):
    in_grid = report("飞线充电 电动车", by="shangcheng_gridworker", source=Source.GRID_WORKER)
    elsewhere = report("飞线充电 楼道", where=IN_T02)
    operator = staff("shangcheng_operator")
    actions.accept_case(staff=operator, case_id=elsewhere.pk)
    actions.dispatch_case(staff=operator, case_id=elsewhere.pk, department="D-FIRE")
    index_now()
    worker, fire = scope_of(staff("shangcheng_gridworker")), scope_of(handler("D-FIRE"))
    assert ids(ask(engine, "飞线充电", scope=worker)) == [in_grid.pk]
    assert ask(engine, "飞线充电", scope=worker).facets["status"] == {"reported": 1}
    assert ids(ask(engine, "飞线充电", scope=fire)) == [elsewhere.pk]
    assert ask(engine, "飞线充电", scope=scope_of(handler("D-EDU"))).total == 0
    assert ask(engine, "飞线充电", scope=CaseScope()).total == 0  # no term admits nothing
    # A department that held a case keeps finding it after it moved on.
    actions.transfer_case(staff=operator, case_id=elsewhere.pk, department="D-PSB", reason="涉及治安")
    index_now()
    assert ids(ask(engine, "飞线充电", scope=fire)) == [elsewhere.pk]


def test_a_case_is_found_by_its_new_state_after_each_step(engine):
    case = report("井盖缺失")
    index_now()
    operator = staff("shangcheng_operator")
    actions.accept_case(staff=operator, case_id=case.pk)
    actions.dispatch_case(staff=operator, case_id=case.pk, department="D-SAMR")
    index_now()
    assert ask(engine, "井盖", statuses=("dispatched",)).total == 1
    assert ask(engine, "井盖", statuses=("reported",)).total == 0
    assert engine.count("shangcheng") >= 1
