"""``GET /api/v1/cases/?q=`` over HTTP: full-text search with highlights, facets and
suggestions, the exact tracking number, scope, the other county, and the fallback
to the database filter when the search engine cannot answer."""

from __future__ import annotations

import psycopg
import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from civicgrid.platform.cases import actions
from civicgrid.platform.notifications.outbox import relay
from civicgrid.search import health
from civicgrid.search.indexing import drain, queue_backlog
from civicgrid.search.models import IndexQueue
from tests.platform.api.test_cases_api import API, YUHANG, client
from tests.platform.cases.test_workflow import staff
from tests.search.helpers import IN_T02, index_now, report


@pytest.fixture
def sc(world):
    with tenant_context(world.shangcheng):
        yield world
        health.record_success()


def test_a_few_chinese_words_find_the_case_highlighted_with_facets(sc):
    leak = report("楼上漏水严重", "卫生间天花板渗水，楼下住户多次协商未果")
    report("路灯不亮", "东坡路口路灯坏了")
    index_now()
    answer = client(sc, "shangcheng_operator").get(f"{API}/cases/", {"q": "渗水 协商"})
    assert answer.status_code == 200
    body = answer.json()
    assert body["count"] == 1 and body["degraded"] is False
    [found] = body["results"]
    assert found["number"] == leak.number and found["light"] == "green"
    assert "<mark>渗水</mark>" in found["highlight"]["text"] and "<mark>协商</mark>" in found["highlight"]["text"]
    assert body["facets"]["status"] == [{"value": "reported", "label": "已上报", "count": 1}]
    assert body["facets"]["category"][0]["value"] == "DSP-NEIGHBOUR"


def test_filters_and_the_tracking_number(sc):
    first, second = report("噪音扰民 夜间施工"), report("噪音扰民 广场舞", where=IN_T02)
    index_now()
    http = client(sc, "shangcheng_operator")
    assert [r["id"] for r in http.get(f"{API}/cases/", {"q": "噪音扰民", "grid": "T02"}).json()["results"]] == [
        second.pk]
    assert http.get(f"{API}/cases/", {"q": "噪音扰民", "status": "closed"}).json()["count"] == 0
    exact = http.get(f"{API}/cases/", {"q": first.number}).json()
    assert [r["id"] for r in exact["results"]] == [first.pk]
    page = http.get(f"{API}/cases/", {"q": "噪音扰民", "limit": 1}).json()
    assert page["count"] == 2 and len(page["results"]) == 1 and "offset=1" in page["next"]


def test_a_script_in_the_title_comes_back_harmless(sc):
    report("<script>alert('x')</script>井盖缺失")
    index_now()
    [found] = client(sc, "shangcheng_operator").get(f"{API}/cases/", {"q": "井盖"}).json()["results"]
    assert "<script>" not in found["highlight"]["title"]
    assert found["highlight"]["title"].startswith("&lt;script&gt;")


def test_the_scope_decides_what_is_found_and_counted(sc):
    mine = report("违章搭建 阳台", by="shangcheng_gridworker", source="grid_worker")
    report("违章搭建 屋顶", where=IN_T02)
    index_now()
    body = client(sc, "shangcheng_gridworker").get(f"{API}/cases/", {"q": "违章搭建"}).json()
    assert [r["id"] for r in body["results"]] == [mine.pk] and body["count"] == 1
    assert sum(v["count"] for v in body["facets"]["status"]) == 1


def test_another_county_and_strangers_find_nothing(sc, world):
    report("独居老人 无人照料")
    index_now()
    with tenant_context(world.yuhang):
        assert client(world, "yuhang_operator", host=YUHANG).get(f"{API}/cases/", {"q": "独居老人"}).json()[
            "count"] == 0
    assert client(world, "shangcheng_operator", host=YUHANG).get(f"{API}/cases/", {"q": "独居老人"}).status_code == 404
    assert client(world, "yuhang_operator").get(f"{API}/cases/", {"q": "独居老人"}).status_code == 404
    assert client(world, None).get(f"{API}/cases/", {"q": "独居老人"}).status_code in (401, 403, 404)


def test_suggestions_offer_category_and_place_names(sc):
    body = client(sc, "shangcheng_operator").get(f"{API}/cases/", {"q": "路灯损怀"}).json()
    assert body["count"] == 0 and "路灯损坏" in body["suggestions"]


@pytest.fixture
def locked_index(sc, settings):
    """Another session holds the index table (a maintenance lock): the engine cannot answer."""
    settings.CIVICGRID_SEARCH_TIMEOUT_MS = 300
    s = connection.settings_dict
    other = psycopg.connect(host=s["HOST"] or None, port=s["PORT"] or None, user=s["USER"], dbname=s["NAME"])
    other.execute('LOCK TABLE "shangcheng".search_casedocument IN ACCESS EXCLUSIVE MODE')
    yield other
    other.rollback()
    other.close()


def test_when_the_engine_is_down_the_list_falls_back_and_nothing_is_lost(sc, locked_index):
    case = report("垃圾清运不及时", "小区门口垃圾堆积")
    relay()  # queues the case for indexing
    from civicgrid.search.query import SearchUnavailable

    with pytest.raises(SearchUnavailable):
        drain()
    assert IndexQueue.objects.filter(case_id=case.pk).exists()  # it waits
    body = client(sc, "shangcheng_operator").get(f"{API}/cases/", {"q": "垃圾清运"}).json()
    assert body["degraded"] is True and [r["id"] for r in body["results"]] == [case.pk]  # the database filter
    assert health.status().degraded

    locked_index.rollback()  # the engine is back
    assert drain() == 1 and queue_backlog()[0] == 0
    health.record_success()
    body = client(sc, "shangcheng_operator").get(f"{API}/cases/", {"q": "小区门口 堆积"}).json()
    assert body["degraded"] is False and [r["id"] for r in body["results"]] == [case.pk]


def test_every_step_reindexes_the_case(sc):
    case = report("窨井盖松动")
    index_now()
    operator = staff("shangcheng_operator")
    actions.accept_case(staff=operator, case_id=case.pk, comment="已通知市政养护单位")
    index_now()
    body = client(sc, "shangcheng_operator").get(f"{API}/cases/", {"q": "市政养护"}).json()
    assert [r["status"] for r in body["results"]] == ["accepted"]


def test_an_unknown_department_finds_nothing_rather_than_everything(sc):
    report("井盖缺失 人行道")
    index_now()
    http = client(sc, "shangcheng_operator")
    assert http.get(f"{API}/cases/", {"q": "井盖"}).json()["count"] >= 1
    assert http.get(f"{API}/cases/", {"q": "井盖", "department": "D-NOWHERE"}).json()["count"] == 0
