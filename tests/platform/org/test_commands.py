"""`civicgrid org …` as a user runs it: child processes on the committed test database."""

import json
import subprocess
import sys
import time

import pytest
from django_tenants.utils import tenant_context

from civicgrid.platform.org import geo
from civicgrid.platform.org.actions import grids_changed
from civicgrid.platform.org.demo import square
from civicgrid.platform.org.models import OrgUnit
from tests.conftest import child_env

from .helpers import SHANGCHENG_CENTER

pytestmark = pytest.mark.slow

TREE = "code,name,parent_code\nT07,城郊街道,\nT07-C01,郊野社区,T07\nT07-C01-G01,郊野社区第1网格,T07-C01\n"
FAR = (120.90, 30.90)  # no demo grid near here


def civicgrid(*args):
    return subprocess.run([sys.executable, "-m", "civicgrid.cli", "org", *args], env=child_env(),
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def cleanup(committed):
    """Whatever the test adds to Shangcheng's tree goes again, children before parents."""
    with tenant_context(committed.shangcheng):
        before = set(OrgUnit.objects.values_list("code", flat=True))
    yield committed
    with tenant_context(committed.shangcheng):
        for unit in sorted(OrgUnit.objects.exclude(code__in=before), key=lambda u: u.path, reverse=True):
            unit.delete()
        grids_changed()  # other processes drop the grids too


def test_import_tree_then_grids_then_locate(cleanup, tmp_path):
    world = cleanup
    tree = tmp_path / "tree.csv"
    tree.write_bytes(TREE.encode("gbk"))
    done = civicgrid("import-tree", "--tenant", "shangcheng", "--file", str(tree))
    assert done.returncode == 0, done.stderr
    assert "shangcheng: 3 created, 0 updated, 0 unchanged" in done.stdout
    assert "apply tree.csv" in done.stderr and "100%" in done.stderr  # tqdm draws on stderr
    again = civicgrid("import-tree", "--tenant", "330102", "--file", str(tree))  # the division code works too
    assert again.returncode == 0 and "0 created, 0 updated, 3 unchanged" in again.stdout
    with tenant_context(world.shangcheng):
        assert OrgUnit.objects.get(code="T07-C01-G01").level == "grid"
    with tenant_context(world.yuhang):
        assert not OrgUnit.objects.filter(code="T07").exists()

    # This process holds a locator; the import in another process must reach it.
    with tenant_context(world.shangcheng):
        assert geo.locate_grid_code(FAR[0] + 0.005, FAR[1] + 0.005) is None
    grids = tmp_path / "grids.geojson"
    grids.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "T07-C01-G01"}, "geometry": square(*FAR)},
        {"type": "Feature", "properties": {"code": "T07-C01-G02", "name": "郊野社区第2网格", "parent_code": "T07-C01"},
         "geometry": square(FAR[0] + 0.01, FAR[1])},
    ]}, ensure_ascii=False), encoding="utf-8")
    done = civicgrid("import-grids", "--tenant", "shangcheng", "--file", str(grids))
    assert done.returncode == 0, done.stderr
    assert "1 created, 1 updated, 0 unchanged" in done.stdout and "100%" in done.stderr
    time.sleep(geo.VERSION_CHECK_SECONDS + 0.2)
    with tenant_context(world.shangcheng):
        assert geo.locate_grid_code(FAR[0] + 0.005, FAR[1] + 0.005) == "T07-C01-G01"
        assert geo.locate_grid_code(FAR[0] + 0.015, FAR[1] + 0.005) == "T07-C01-G02"

    found = civicgrid("locate", "--tenant", "shangcheng", "--lng", str(FAR[0] + 0.01), "--lat", str(FAR[1] + 0.005))
    assert found.returncode == 0, found.stderr
    assert found.stdout.splitlines() == ["T07-C01-G01\t郊野社区第1网格", "also T07-C01-G02\t郊野社区第2网格"]
    # Yuhang has no grid there, nor at the far point.
    nowhere = civicgrid("locate", "--tenant", "yuhang", "--lng", str(FAR[0] + 0.005), "--lat", str(FAR[1] + 0.005))
    assert nowhere.returncode != 0 and "no grid of yuhang" in nowhere.stderr


def test_a_bad_file_is_refused_with_every_problem_and_changes_nothing(cleanup, tmp_path):
    world = cleanup
    with tenant_context(world.shangcheng):
        before = set(OrgUnit.objects.values_list("code", "name", "path"))
    tree = tmp_path / "tree.csv"
    tree.write_text("code,name,parent_code\nT07,城郊街道,\nT07-C01,郊野社区,T99\nT07,重复,\n", encoding="utf-8")
    done = civicgrid("import-tree", "--tenant", "shangcheng", "--file", str(tree))
    assert done.returncode != 0
    assert "(T07-C01)" in done.stderr and "T99" in done.stderr and "(T07)" in done.stderr
    grids = tmp_path / "grids.geojson"
    grids.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, '
                     '"geometry": null}, {"type": "Feature", "properties": {"code": "T01-C01-G01"}, '
                     '"geometry": {"type": "Polygon", "coordinates": [[[120.1, 30.1], [120.2, 30.2], '
                     '[120.2, 30.1], [120.1, 30.2], [120.1, 30.1]]]}}]}')
    done = civicgrid("import-grids", "--tenant", "shangcheng", "--file", str(grids))
    assert done.returncode != 0 and "(T01-C01-G01)" in done.stderr and "Self-intersection" in done.stderr
    with tenant_context(world.shangcheng):
        assert set(OrgUnit.objects.values_list("code", "name", "path")) == before
        assert OrgUnit.objects.get(code="T01-C01-G01").boundary == square(*SHANGCHENG_CENTER)
    nowhere = civicgrid("import-tree", "--tenant", "nowhere", "--file", str(tmp_path / "missing.csv"))
    assert nowhere.returncode != 0 and "no tenant" in nowhere.stderr
