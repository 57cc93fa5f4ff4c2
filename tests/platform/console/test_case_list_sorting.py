"""The case list's columns sort both ways and keep the filters in the address."""

from __future__ import annotations

import re

import pytest
from django_tenants.utils import tenant_context

from tests.platform.cases.test_case_pages import IN_G01, report
from tests.platform.console.test_queue import signed_in


@pytest.fixture
def sc(world):
    with tenant_context(world.shangcheng):
        yield world


def numbers_on(html: str) -> list[str]:
    return re.findall(r'<tr data-case="([^"]+)"', html)


def test_columns_sort_both_ways_and_keep_the_filters(sc):
    made = sorted(report(title=f"排序{n}", **IN_G01).number for n in range(3))
    operator = signed_in(sc, "shangcheng_operator")
    ascending = operator.get("/cases/", {"q": "", "category": "DSP-NEIGHBOUR", "sort": "number"})
    listed = [n for n in numbers_on(ascending.content.decode()) if n in made]
    assert listed == made
    links = ascending.context["sort_links"]
    assert links["number"]["dir"] == "asc" and "sort=-number" in links["number"]["url"]
    assert "category=DSP-NEIGHBOUR" in links["number"]["url"], "the filter stays"
    descending = operator.get("/cases/" + links["number"]["url"])
    assert [n for n in numbers_on(descending.content.decode()) if n in made] == made[::-1]
    assert 'data-dir="desc"' in descending.content.decode()
    # A sort nobody offered is a form error, never a server error.
    assert operator.get("/cases/", {"sort": "password"}).status_code == 200


def test_an_empty_list_says_what_to_do_next(sc):
    html = signed_in(sc, "shangcheng_operator").get("/cases/", {"category": "DSP-LAND", "status": "closed"}).content
    assert b'href="/cases/"' in html and b'class="empty"' in html
