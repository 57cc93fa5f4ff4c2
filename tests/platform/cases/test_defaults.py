"""The province's default categories: the tree onboarding copies must be whole and consistent.

No database: the data is plain Python, and a broken tree should fail here before any tenant is
seeded from it.
"""

import re
from decimal import Decimal

import pytest

from civicgrid.platform.cases import defaults
from civicgrid.platform.cases.defaults import DEFAULT_CATEGORIES, DEFAULT_DEPARTMENTS, groups, leaves

CHINESE = re.compile(r"[\u4e00-\u9fff]")
DEMO_DEPARTMENTS = {"D-PSB": "公安分局", "D-JUS": "司法局", "D-SAMR": "市场监督管理局",
                    "D-FIRE": "消防救援大队", "D-EDU": "教育局"}
ALL_ROWS = [*DEFAULT_DEPARTMENTS, *DEFAULT_CATEGORIES]


def test_category_codes_are_unique():
    codes = [c.code for c in DEFAULT_CATEGORIES]
    assert len(codes) == len(set(codes)), sorted(c for c in codes if codes.count(c) > 1)


def test_enough_groups_and_leaves():
    assert len(groups()) >= 4
    assert len(leaves()) >= 40
    assert len(groups()) + len(leaves()) == len(DEFAULT_CATEGORIES)


def test_the_four_required_groups_exist():
    names = {g.name for g in groups()}
    assert {"矛盾纠纷", "安全隐患", "民生诉求", "公共服务需求"} <= names


def test_groups_come_first_and_every_leaf_hangs_from_an_earlier_group():
    seen_groups: set[str] = set()
    seen_leaf = False
    for category in DEFAULT_CATEGORIES:
        if category.parent is None:
            assert not seen_leaf, f"group {category.code} after a leaf"
            seen_groups.add(category.code)
        else:
            seen_leaf = True
            assert category.parent in seen_groups, f"{category.code}: parent {category.parent} not defined before it"


def test_every_group_has_leaves():
    parents = {c.parent for c in leaves()}
    assert {g.code for g in groups()} == parents


def test_leaf_codes_start_with_their_group_code():
    # Codes are read by people in routing rules and aggregates: the prefix tells the group.
    for leaf in leaves():
        assert leaf.code.startswith(f"{leaf.parent}-"), leaf.code


def test_department_codes_are_unique_and_every_used_code_exists():
    codes = [d.code for d in DEFAULT_DEPARTMENTS]
    assert len(codes) == len(set(codes))
    used = {c.department for c in DEFAULT_CATEGORIES if c.department}
    assert used <= set(codes), used - set(codes)


def test_groups_name_no_department():
    assert all(g.department == "" for g in groups())


def test_the_demo_departments_keep_their_codes_and_names():
    by_code = {d.code: d.name for d in DEFAULT_DEPARTMENTS}
    for code, name in DEMO_DEPARTMENTS.items():
        assert by_code.get(code) == name


def test_most_leaves_route_to_a_department():
    # Hand dispatch is the exception for cases whose handler depends on the facts.
    by_hand = [c.code for c in leaves() if not c.department]
    assert len(by_hand) <= len(leaves()) // 10, by_hand


@pytest.mark.parametrize("leaf", leaves(), ids=lambda c: c.code)
def test_deadlines_are_positive_and_accepting_comes_before_handling(leaf):
    assert isinstance(leaf.accept_hours, Decimal) and isinstance(leaf.handle_hours, Decimal)
    assert 0 < leaf.accept_hours <= leaf.handle_hours


@pytest.mark.parametrize("leaf", leaves(), ids=lambda c: c.code)
def test_urgency_is_a_known_level(leaf):
    assert leaf.urgency in {"normal", "urgent", "critical"}


def test_more_urgent_leaves_are_accepted_faster():
    slowest = {level: max((c.accept_hours for c in leaves() if c.urgency == level), default=None)
               for level in ("normal", "urgent", "critical")}
    assert slowest["critical"] is not None and slowest["urgent"] is not None
    assert slowest["critical"] <= Decimal("0.5")
    assert slowest["critical"] <= slowest["urgent"] <= slowest["normal"]
    assert max(c.handle_hours for c in leaves() if c.urgency == "critical") <= Decimal("8")


@pytest.mark.parametrize("row", ALL_ROWS, ids=lambda r: r.code)
def test_names_are_chinese_and_english_names_are_ascii(row):
    assert row.name.strip() and CHINESE.search(row.name), row.name
    assert row.name_en.strip() and row.name_en.isascii(), row.name_en


@pytest.mark.parametrize("category", DEFAULT_CATEGORIES, ids=lambda c: c.code)
def test_every_category_says_what_belongs_in_it(category):
    assert CHINESE.search(category.description), category.code
    assert "\n" not in category.description


def test_the_data_is_immutable():
    with pytest.raises(AttributeError):
        DEFAULT_CATEGORIES[0].name = "changed"  # type: ignore[misc]
    assert isinstance(DEFAULT_CATEGORIES, tuple) and isinstance(DEFAULT_DEPARTMENTS, tuple)


def test_urgency_levels_constant_matches_the_values_used():
    assert {c.urgency for c in DEFAULT_CATEGORIES} <= set(defaults.URGENCY_LEVELS)


@pytest.mark.parametrize("category", DEFAULT_CATEGORIES, ids=lambda c: c.code)
def test_every_category_fits_the_tenant_tables(category):
    # Limits of Category and Department (code 40, name 100, description 300, hours decimal(6, 2)):
    # seeding must never be the place a value is truncated or rejected.
    assert len(category.code) <= 40 and len(category.name) <= 100 and len(category.name_en) <= 100
    assert len(category.description) <= 300
    for hours in (category.accept_hours, category.handle_hours):
        assert hours == hours.quantize(Decimal("0.01")) and hours < 10_000


def test_every_department_fits_the_tenant_table():
    assert all(len(d.code) <= 40 and len(d.name) <= 100 for d in DEFAULT_DEPARTMENTS)
