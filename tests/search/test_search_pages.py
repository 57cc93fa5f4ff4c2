"""The console's case list searches: highlighted hits, facets that narrow, "did you
mean", the exact tracking number, scope and the other county, and the banner when
search is degraded."""

from __future__ import annotations

import pytest
from django.test import Client
from django_tenants.utils import tenant_context

from civicgrid.search import health
from tests.search.helpers import IN_T02, index_now, report
from tests.search.test_search_api import locked_index  # noqa: F401 -- a fixture

SHANGCHENG, YUHANG = "shangcheng.localhost", "yuhang.localhost"


def page(world, username, host=SHANGCHENG, **params):
    http = Client(HTTP_HOST=host, HTTP_ACCEPT_LANGUAGE="zh-hans")
    if username:
        http.force_login(world.user(username))
    return http.get("/cases/", params)


@pytest.fixture
def sc(world):
    with tenant_context(world.shangcheng):
        yield world
        health.record_success()


def test_words_of_the_description_find_the_case_with_marks_and_facets(sc):
    case = report("邻里矛盾", "楼上漏水严重，<img src=x onerror=alert(1)>楼下住户投诉")
    report("路灯不亮")
    index_now()
    answer = page(sc, "shangcheng_operator", q="漏水")
    html = answer.content.decode()
    assert answer.status_code == 200 and case.number in html
    assert "<mark>漏水</mark>" in html and "<img src=x" not in html and "&lt;img src=x" in html
    assert "search-facets" in html and "邻里纠纷" in html  # the category facet, by name
    assert "路灯不亮" not in html


def test_a_facet_narrows_and_the_tracking_number_is_exact(sc):
    near, far = report("噪音扰民 广场舞"), report("噪音扰民 夜间施工", where=IN_T02)
    index_now()
    html = page(sc, "shangcheng_operator", q="噪音扰民", source="hotline_12345").content.decode()
    assert near.number in html and far.number in html
    html = page(sc, "shangcheng_operator", q="噪音扰民", grid="T02").content.decode()
    assert far.number in html and near.number not in html
    html = page(sc, "shangcheng_operator", q=near.number).content.decode()
    assert near.number in html and far.number not in html


def test_did_you_mean(sc):
    html = page(sc, "shangcheng_operator", q="路灯损怀").content.decode()
    assert "你是不是要找" in html or "Did you mean" in html
    assert "路灯损坏" in html


def test_scope_and_the_other_county(sc, world):
    mine = report("违章搭建 阳台", by="shangcheng_gridworker", source="grid_worker")
    other = report("违章搭建 屋顶", where=IN_T02)
    index_now()
    html = page(sc, "shangcheng_gridworker", q="违章搭建").content.decode()
    assert mine.number in html and other.number not in html
    assert page(sc, "yuhang_operator", q="违章搭建").status_code == 404
    with tenant_context(world.yuhang):
        html = page(world, "yuhang_operator", host=YUHANG, q="违章搭建").content.decode()
    assert mine.number not in html and other.number not in html


def test_a_degraded_search_says_so_and_still_lists(sc, locked_index):  # noqa: F811
    case = report("垃圾清运不及时")
    html = page(sc, "shangcheng_operator", q="垃圾清运").content.decode()
    assert "search-degraded" in html and case.number in html
