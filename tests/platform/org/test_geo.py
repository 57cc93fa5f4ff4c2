"""Point → grid lookup: the R-tree locator, its per-schema cache and its rebuilds."""

import pytest
from django.core.cache import cache
from django.db import connection
from django_tenants.utils import tenant_context

from civicgrid.platform.org import geo
from civicgrid.platform.org.actions import create_org_unit, set_grid_boundary
from civicgrid.platform.org.demo import GRID_SIZE, square
from civicgrid.platform.org.models import OrgUnit

from .helpers import SHANGCHENG_CENTER, YUHANG_CENTER, inside

LNG0, LAT0 = SHANGCHENG_CENTER


def test_a_point_inside_a_grid_finds_it(world):
    with tenant_context(world.shangcheng):
        # Column 0 is T01-C01, column 3 is T02-C02; row 1 is each community's second grid.
        assert geo.locate_grid(*inside(SHANGCHENG_CENTER, 0, 0)).code == "T01-C01-G01"
        assert geo.locate_grid(*inside(SHANGCHENG_CENTER, 3, 1)).code == "T02-C02-G02"
        found = geo.locate_grid(*inside(SHANGCHENG_CENTER, 1, 0))
        assert isinstance(found, OrgUnit) and found.code == "T01-C02-G01" and found.level == "grid"
        assert geo.locate_grid_code(*inside(SHANGCHENG_CENTER, 2, 1)) == "T02-C01-G02"


def test_points_on_a_boundary_belong_to_the_grid(world):
    with tenant_context(world.shangcheng):
        # The outer corner and the outer edge of the block belong to the grid there.
        assert geo.locate_grid_code(LNG0, LAT0) == "T01-C01-G01"
        assert geo.locate_grid_code(LNG0, LAT0 + GRID_SIZE / 3) == "T01-C01-G01"
        # On the edge two equal grids share, both hold the point and the lower code answers.
        shared = (LNG0 + GRID_SIZE / 2, LAT0 + GRID_SIZE)  # G01's top edge is G02's bottom edge
        assert geo.grid_codes_at(*shared) == ["T01-C01-G01", "T01-C01-G02"]
        assert geo.locate_grid(*shared).code == "T01-C01-G01"
        # Where four grids meet.
        corner = (LNG0 + GRID_SIZE, LAT0 + GRID_SIZE)
        assert geo.grid_codes_at(*corner) == ["T01-C01-G01", "T01-C01-G02", "T01-C02-G01", "T01-C02-G02"]


def test_points_outside_every_grid_find_nothing(world):
    with tenant_context(world.shangcheng):
        assert geo.locate_grid(LNG0 - 0.0001, LAT0 + 0.005) is None  # just west of the block
        assert geo.locate_grid(LNG0 + 4 * GRID_SIZE + 1e-9, LAT0 + 0.005) is None  # just east
        assert geo.locate_grid(*inside(YUHANG_CENTER, 0, 0)) is None  # another county's land
        assert geo.grids_at(0.0, 0.0) == [] and geo.locate_grid_code(0.0, 0.0) is None


def test_overlapping_grids_answer_with_the_smallest(world, django_capture_on_commit_callbacks):
    with tenant_context(world.shangcheng):
        community = OrgUnit.objects.get(code="T01-C01")
        point = inside(SHANGCHENG_CENTER, 0, 0)
        with django_capture_on_commit_callbacks(execute=True):
            # A small grid inside G01 and a large one over the whole block.
            create_org_unit(code="T01-C01-G08", name="小网格", parent=community,
                            boundary=square(point[0] - 0.001, point[1] - 0.001, 0.002), acting_user=None)
            create_org_unit(code="T01-C01-G09", name="大网格", parent=community,
                            boundary=square(LNG0 - 0.01, LAT0 - 0.01, 0.08), acting_user=None)
        assert geo.grid_codes_at(*point) == ["T01-C01-G08", "T01-C01-G01", "T01-C01-G09"]
        assert [g.code for g in geo.grids_at(*point)] == ["T01-C01-G08", "T01-C01-G01", "T01-C01-G09"]
        assert geo.locate_grid(*point).code == "T01-C01-G08"
        assert geo.locate_grid(LNG0 - 0.005, LAT0).code == "T01-C01-G09"


def test_many_points_at_once_agree_with_one_by_one(world):
    with tenant_context(world.shangcheng):
        locator = geo.locator()
        points = [(LNG0 + i * 0.0013, LAT0 + j * 0.0011) for i in range(-3, 35) for j in range(-3, 22)]
        one_by_one = [locator.grid_at(lng, lat) for lng, lat in points]
        assert locator.grid_at_many(points) == one_by_one
        assert {e.code for e in one_by_one if e} == {u.code for u in OrgUnit.objects.filter(level="grid")}
        assert None in one_by_one and locator.grid_at_many([]) == []


def test_the_locator_is_rebuilt_after_a_boundary_change(world, django_capture_on_commit_callbacks):
    with tenant_context(world.shangcheng):
        old_point = inside(SHANGCHENG_CENTER, 0, 0)
        new_point = (LNG0 - 0.05, LAT0 - 0.05)
        assert geo.locate_grid_code(*old_point) == "T01-C01-G01"
        assert geo.locate_grid_code(*new_point) is None
        before = cache.get(geo.VERSION_KEY)
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            set_grid_boundary(grid=OrgUnit.objects.get(code="T01-C01-G01"),
                              boundary=square(new_point[0] - 0.002, new_point[1] - 0.002, 0.004), acting_user=None)
        assert len(callbacks) == 1
        assert cache.get(geo.VERSION_KEY) != before
        assert geo.locate_grid_code(*old_point) is None
        assert geo.locate_grid_code(*new_point) == "T01-C01-G01"


def test_a_change_from_another_process_is_seen_after_the_check_interval(world, monkeypatch):
    """Another process changed a grid and bumped the version; this process has
    no hint but the version in the cache."""
    with tenant_context(world.shangcheng):
        point = inside(SHANGCHENG_CENTER, 0, 0)
        assert geo.locate_grid_code(*point) == "T01-C01-G01"
        # What the other process's action did: the row changed, the version moved.
        OrgUnit.objects.filter(code="T01-C01-G01").update(boundary=square(100.0, 40.0))
        cache.set(geo.VERSION_KEY, (cache.get(geo.VERSION_KEY) or 0) + 1, None)
        # Within the interval the process trusts its copy: no cache read per lookup.
        monkeypatch.setattr(geo, "VERSION_CHECK_SECONDS", 3600)
        assert geo.locate_grid_code(*point) == "T01-C01-G01"
        monkeypatch.setattr(geo, "VERSION_CHECK_SECONDS", 0)
        assert geo.locate_grid_code(*point) is None
        assert geo.locate_grid_code(100.005, 40.005) == "T01-C01-G01"


def test_an_import_of_many_grids_bumps_the_version_once(world, django_capture_on_commit_callbacks):
    with tenant_context(world.shangcheng):
        community = OrgUnit.objects.get(code="T02-C02")
        with django_capture_on_commit_callbacks() as callbacks:
            for i in range(5):
                create_org_unit(code=f"T02-C02-G1{i}", name=f"新网格{i}", parent=community,
                                boundary=square(121.0 + i * 0.01, 30.0), acting_user=None)
        assert len(callbacks) == 1


def test_two_tenants_with_the_same_coordinates_never_mix(world, django_capture_on_commit_callbacks):
    point = inside(SHANGCHENG_CENTER, 0, 0)
    with tenant_context(world.yuhang):
        # Yuhang draws a grid right over Shangcheng's T01-C01-G01 (and has its own T01-C01-G01 elsewhere).
        with django_capture_on_commit_callbacks(execute=True):
            create_org_unit(code="T01-C01-G09", name="重叠网格", parent=OrgUnit.objects.get(code="T01-C01"),
                            boundary=square(LNG0, LAT0), acting_user=None)
        yuhang_grid = geo.locate_grid(*point)
        yuhang_version = cache.get(geo.VERSION_KEY)
        assert yuhang_grid.code == "T01-C01-G09"
        assert geo.locate_grid_code(*inside(YUHANG_CENTER, 0, 0)) == "T01-C01-G01"
    with tenant_context(world.shangcheng):
        shangcheng_grid = geo.locate_grid(*point)
        assert shangcheng_grid.code == "T01-C01-G01"
        assert geo.grid_codes_at(*point) == ["T01-C01-G01"]
        assert geo.locate_grid_code(*inside(YUHANG_CENTER, 0, 0)) is None
        # A change here moves Shangcheng's version only.
        with django_capture_on_commit_callbacks(execute=True):
            set_grid_boundary(grid=shangcheng_grid, boundary=square(LNG0, LAT0, 0.005), acting_user=None)
    with tenant_context(world.yuhang):
        assert cache.get(geo.VERSION_KEY) == yuhang_version
        assert geo.locate_grid(*point).pk == yuhang_grid.pk
    # Each schema has its own locator in this process.
    with tenant_context(world.shangcheng):
        assert geo.locate_grid_code(*point) == "T01-C01-G01"
    assert {"shangcheng", "yuhang"} <= set(geo._locators)
    assert geo._locators["shangcheng"].locator is not geo._locators["yuhang"].locator


def test_no_tenant_no_answer(world):
    connection.set_schema_to_public()
    with pytest.raises(RuntimeError, match="need a tenant"):
        geo.locate_grid(LNG0, LAT0)


def test_bad_stored_boundaries_do_not_stop_the_others(world):
    locator = geo.GridLocator([
        (1, "A", "a", square(120.0, 30.0)),
        (2, "B", "b", {"type": "Point", "coordinates": [120.0, 30.0]}),
        (3, "C", "c", {"type": "Polygon", "coordinates": "nonsense"}),
        # A bow tie: invalid, repaired rather than dropped.
        (4, "D", "d", {"type": "Polygon", "coordinates": [[[121, 30], [121.01, 30.01], [121.01, 30], [121, 30.01],
                                                            [121, 30]]]}),
    ])
    assert [e.code for e in locator.entries] == ["D", "A"] or [e.code for e in locator.entries] == ["A", "D"]
    assert locator.grid_at(120.005, 30.005).code == "A"
    assert locator.grid_at(121.002, 30.005).code == "D"
    assert len(geo.GridLocator([])) == 0 and geo.GridLocator([]).grid_at(120, 30) is None
