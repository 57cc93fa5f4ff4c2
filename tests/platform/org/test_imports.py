"""Imports of the org tree (CSV) and of grid boundaries (GeoJSON): all or nothing, idempotent."""

import json

import pytest
from django.utils import translation
from django_tenants.utils import tenant_context

from civicgrid.platform.audit.models import AuditEntry
from civicgrid.platform.org import geo
from civicgrid.platform.org.demo import square
from civicgrid.platform.org.imports import import_grids, import_tree
from civicgrid.platform.org.models import OrgUnit

GOOD_TREE = """code,name,parent_code
T03,城南街道,
T03-C01,春风社区,T03
T03-C01-G01,春风社区第1网格,T03-C01
T03-C01-G02,春风社区第2网格,T03-C01
T01-C03,东湖社区,T01
T01-C03-G01,东湖社区第1网格,T01-C03
T01-C01-G03,幸福社区第3网格,T01-C01
T01,城东街道,
"""


@pytest.fixture
def english():
    with translation.override("en"):
        yield


def problems_by_where(result):
    return {p.where: (p.code, p.message) for p in result.problems}


def snapshot():
    return (sorted(OrgUnit.objects.values_list("code", "name", "level", "path", "boundary")),
            AuditEntry.objects.count())


def test_a_good_tree_is_applied_with_levels_inferred_and_reimport_changes_nothing(world):
    with tenant_context(world.shangcheng):
        result = import_tree(data=GOOD_TREE.encode(), acting_user=world.user("shangcheng_admin"))
        assert result.ok, result.problems
        assert sorted(result.created) == sorted(["T03", "T03-C01", "T03-C01-G01", "T03-C01-G02", "T01-C03",
                                                 "T01-C03-G01", "T01-C01-G03"])
        assert result.unchanged == ["T01"]
        levels = dict(OrgUnit.objects.filter(code__in=result.created).values_list("code", "level"))
        assert levels == {"T03": "township", "T03-C01": "village", "T03-C01-G01": "grid", "T03-C01-G02": "grid",
                          "T01-C03": "village", "T01-C03-G01": "grid", "T01-C01-G03": "grid"}
        assert OrgUnit.objects.get(code="T01-C03-G01").path == "T01/T01-C03/T01-C03-G01/"
        assert AuditEntry.objects.filter(action="org.unit_created", target_id__in=[
            str(pk) for pk in OrgUnit.objects.filter(code__in=result.created).values_list("pk", flat=True)
        ]).count() == 7
        assert AuditEntry.objects.filter(action="org.tree_imported").exists()

        before = snapshot()
        again = import_tree(data=GOOD_TREE.encode(), acting_user=None)
        assert again.ok and again.created == [] and len(again.unchanged) == 8
        assert snapshot() == before


def test_a_gbk_file_reads_as_well_as_utf8(world):
    with tenant_context(world.shangcheng):
        data = "code,name,parent_code\r\nT09,城北街道,\r\nT09-C01,北苑社区,T09\r\n".encode("gbk")
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")
        result = import_tree(data=data, acting_user=None)
        assert result.ok, result.problems
        assert OrgUnit.objects.get(code="T09-C01").name == "北苑社区"
        # Excel's UTF-8 carries a byte-order mark.
        bom = "\ufeffcode,name,parent_code\nT08,城北二街道,\n".encode()
        assert import_tree(data=bom, acting_user=None).created == ["T08"]


def test_a_bad_tree_reports_every_problem_and_applies_nothing(world, english):
    bad = "\n".join([
        "code,name,parent_code,remark",        # 1: an extra column is fine
        "T05,新街道,,",                          # 2: good on its own
        "T05-C01,新社区,T05,",                   # 3: good on its own
        "T05-C02,另一社区,T99,",                 # 4: unknown parent
        "T05-C01,重复社区,T05,",                 # 5: duplicate code
        "A,甲,B,",                               # 6: cycle
        "B,乙,A,",                               # 7: cycle
        "T01-C01-G01-X,网格下的网格,T01-C01-G01,",  # 8: a grid under an existing grid
        "T05-C01-G01,新网格,T05-C01,",           # 9: good (a grid)
        "T05-C01-G01-X,再下一层,T05-C01-G01,",    # 10: a grid under a grid in the file
        "T06,,,",                                # 11: no name
        "T01,改名街道,,",                         # 12: exists with another name
        "T07/X,斜杠,,",                           # 13: bad code
        "SELF,自己,SELF,",                        # 14: its own parent
        "T01-C01,幸福社区,T02,",                  # 15: exists under another parent
    ])
    with tenant_context(world.shangcheng):
        before = snapshot()
        result = import_tree(data=bad.encode(), acting_user=None)
        assert not result.ok and result.created == []
        found = problems_by_where(result)
        assert set(found) == {f"line {n}" for n in (4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15)}
        assert "T99" in found["line 4"][1] and "neither in the file nor in the tree" in found["line 4"][1]
        assert "also on line 3" in found["line 5"][1]
        assert found["line 6"] == ("A", "The parents go round in a circle: A → B → A")
        assert found["line 7"] == ("B", "The parents go round in a circle: B → A → B")
        assert "below the grid T01-C01-G01" in found["line 8"][1]
        assert "below the grid T05-C01-G01" in found["line 10"][1]
        assert found["line 11"][1] == "The name is empty."
        assert "does not rename or move" in found["line 12"][1]
        assert "'/'" in found["line 13"][1]
        assert found["line 14"][1] == "A unit cannot be its own parent."
        assert "under T01" in found["line 15"][1]
        assert snapshot() == before


def test_a_tree_file_without_the_columns_or_rows_is_refused(world, english):
    with tenant_context(world.shangcheng):
        missing = import_tree(data="code,name\nT05,新街道\n".encode(), acting_user=None)
        assert [str(p) for p in missing.problems] == [
            "line 1: The header needs the columns code, name, parent_code; missing: parent_code"]
        assert "no rows" in str(import_tree(data=b"code,name,parent_code\n", acting_user=None).problems[0])
        assert "neither UTF-8 nor GBK" in str(import_tree(data=b"\xff\xfe\x00\x81\x00", acting_user=None).problems[0])


def feature(code, geometry, **properties):
    return {"type": "Feature", "properties": {"code": code, **properties}, "geometry": geometry}


def collection(*features):
    return json.dumps({"type": "FeatureCollection", "features": list(features)}).encode()


def test_good_grids_are_applied_and_reimport_changes_nothing(world, django_capture_on_commit_callbacks):
    moved = square(120.40, 30.60)
    new = square(120.41, 30.60)
    with tenant_context(world.shangcheng):
        unchanged = OrgUnit.objects.get(code="T01-C01-G02")
        data = collection(feature("T01-C01-G01", moved),
                          feature("T01-C01-G05", new, name="幸福社区第5网格", parent_code="T01-C01"),
                          {**feature("T01-C01-G02", unchanged.boundary), "bbox": [1, 2, 3, 4]})
        with django_capture_on_commit_callbacks(execute=True):
            result = import_grids(data=data, acting_user=world.user("shangcheng_admin"))
        assert result.ok, result.problems
        assert (result.created, result.updated, result.unchanged) == (["T01-C01-G05"], ["T01-C01-G01"],
                                                                      ["T01-C01-G02"])
        created = OrgUnit.objects.get(code="T01-C01-G05")
        assert created.level == "grid" and created.parent.code == "T01-C01" and created.boundary == new
        assert OrgUnit.objects.get(code="T01-C01-G01").boundary == moved
        assert geo.locate_grid_code(120.405, 30.605) == "T01-C01-G01"
        assert geo.locate_grid_code(120.415, 30.605) == "T01-C01-G05"

        before = snapshot()
        again = import_grids(data=data, acting_user=None)
        assert again.ok and again.created == again.updated == []
        assert sorted(again.unchanged) == ["T01-C01-G01", "T01-C01-G02", "T01-C01-G05"]
        assert snapshot() == before


def test_bad_grids_report_every_feature_and_apply_nothing(world, english):
    bow_tie = {"type": "Polygon", "coordinates": [[[120.1, 30.1], [120.2, 30.2], [120.2, 30.1], [120.1, 30.2],
                                                  [120.1, 30.1]]]}
    data = collection(
        feature("T01-C01-G01", square(120.5, 30.5)),                                    # 1: fine alone
        {"type": "Feature", "properties": {"name": "无编码"}, "geometry": square(120, 30)},  # 2: no code
        feature("T01-C01-G02", bow_tie),                                                # 3: self-intersection
        feature("T01-C01-G07", square(120, 30)),                                        # 4: unknown, no name
        feature("T01-C01-G01-X", square(120, 30), name="网格下", parent_code="T01-C01-G01"),  # 5: under a grid
        feature("T01-C09", square(120, 30), name="镇下", parent_code="T01"),              # 6: under a township
        feature("T01-C01-G01", square(120.6, 30.6)),                                    # 7: duplicate
        feature("T01", square(120, 30)),                                                # 8: not a grid
        feature("T01-C02-G01", square(10.0, 50.0)),                                     # 9: outside China
        feature("T01-C02-G02", {"type": "Point", "coordinates": [120, 30]}),           # 10: not a polygon
        feature("T01-C02-G02", None),                                                   # 11: duplicate too
        feature("T02-C01-G01", square(120, 30), name="改名", parent_code="T02-C01"),     # 12: another name
        feature("T01-C01-G06", square(120, 30), name="新网格", parent_code="T01-C77"),   # 13: unknown parent
    )
    with tenant_context(world.shangcheng):
        before = snapshot()
        result = import_grids(data=data, acting_user=None)
        assert not result.ok and result.created == result.updated == []
        found = problems_by_where(result)
        assert set(found) == {f"feature {n}" for n in (2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13)}
        assert found["feature 2"] == ("", "The feature has no code property.")
        assert found["feature 3"][0] == "T01-C01-G02" and "Self-intersection" in found["feature 3"][1]
        assert "give its name and parent_code" in found["feature 4"][1]
        assert "cannot sit below a grid" in found["feature 5"][1]
        assert "is a township" in found["feature 6"][1]
        assert "also feature 1" in found["feature 7"][1]
        assert "only grids carry a boundary" in found["feature 8"][1]
        assert "outside China" in found["feature 9"][1]
        assert "Polygon or MultiPolygon" in found["feature 10"][1]
        assert "also feature 10" in found["feature 11"][1]
        assert "does not rename or move" in found["feature 12"][1]
        assert "T01-C77 is not in the tree" in found["feature 13"][1]
        assert snapshot() == before


@pytest.mark.parametrize("data, message", [
    (b"{not json", "not JSON"),
    (json.dumps({"type": "Feature"}).encode(), "FeatureCollection"),
    (collection(), "no features"),
])
def test_a_grid_file_that_is_not_a_feature_collection_is_refused(world, english, data, message):
    with tenant_context(world.shangcheng):
        result = import_grids(data=data, acting_user=None)
        assert not result.ok and message in result.problems[0].message
