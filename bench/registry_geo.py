"""Point → grid benchmark: the R-tree locator vs. testing every polygon.

Run from the repository root with a PostgreSQL server and Redis available:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
    REDIS_URL=redis://127.0.0.1:6379/5 \
    .venv/bin/python bench/registry_geo.py

DATABASE_URL only says which server to use (and which database to connect to
for CREATE/DROP DATABASE). All the work happens in a scratch database,
``civicgrid_bench_geo`` (override with BENCH_DB), dropped and recreated at the
start and dropped at the end. No other database is touched.

What it does:

* builds one county with 2,000 grids: a 50 × 40 tiling of cells about 500 m
  across whose corners are jittered (every cell an irregular quadrilateral) and
  where one edge in five bends through an extra point (concave, many-sided
  cells), shared exactly by both neighbours, so the grids tile without gaps;
  the tree (10 townships, 100 communities) and the grids go in through the
  real imports (CSV, then GeoJSON), whose time is reported too;
* index build: ``geo.build_locator()`` (load from the database + build) and the
  build alone from rows in memory, median of 5;
* 100,000 random points over the county's bounding box grown by 5 % (some fall
  outside every grid), looked up one at a time with the locator
  (``GridLocator.grid_at``), through the public ``geo.locate_grid_code`` (with
  its cache-version check), and in one batch (``grid_at_many``);
* the naive way -- a Python loop testing every prepared polygon, keeping the
  smallest that covers the point -- on the first 1,000 of the same points;
  its answers are checked against the locator's, and the ratio printed;
* ``geo.locate_grid`` (which also loads the OrgUnit row) on 2,000 points.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from scratch import machine_line, run_in_scratch_database  # noqa: E402

COLUMNS, ROWS = 50, 40  # 2,000 grids
CELL = 0.005  # degrees, about 500 m
ORIGIN = (120.10, 30.20)
BLOCK = (5, 4)  # grids per community: 5 columns × 4 rows → 10 × 10 communities
POINTS = 100_000
NAIVE_POINTS = 1_000
ORM_POINTS = 2_000
SEED = 20240601


def lattice(rng: random.Random):
    """Corner points, jittered inside the block (its outline stays straight)."""
    corners = {}
    for i in range(COLUMNS + 1):
        for j in range(ROWS + 1):
            x, y = ORIGIN[0] + i * CELL, ORIGIN[1] + j * CELL
            if 0 < i < COLUMNS:
                x += rng.uniform(-0.2, 0.2) * CELL
            if 0 < j < ROWS:
                y += rng.uniform(-0.2, 0.2) * CELL
            corners[i, j] = (round(x, 7), round(y, 7))
    return corners


def bends(rng: random.Random, corners):
    """An extra point on one edge in five, pushed sideways; both neighbours use it."""
    out = {}
    for (i, j), (x, y) in corners.items():
        for di, dj in ((1, 0), (0, 1)):
            other = corners.get((i + di, j + dj))
            if other is None or rng.random() >= 0.2:
                continue
            push = rng.uniform(-0.15, 0.15) * CELL
            mx, my = (x + other[0]) / 2, (y + other[1]) / 2
            # Sideways to the edge: a horizontal edge bends up or down, a vertical one left or right.
            out[frozenset({(i, j), (i + di, j + dj)})] = (round(mx, 7), round(my + push, 7)) if di else \
                (round(mx + push, 7), round(my, 7))
    return out


def cell_polygon(i, j, corners, bent) -> dict:
    ring_corners = [(i, j), (i + 1, j), (i + 1, j + 1), (i, j + 1)]
    ring = []
    for a, b in zip(ring_corners, ring_corners[1:] + ring_corners[:1], strict=True):
        ring.append(list(corners[a]))
        middle = bent.get(frozenset({a, b}))
        if middle:
            ring.append(list(middle))
    ring.append(ring[0])
    return {"type": "Polygon", "coordinates": [ring]}


def county_files(rng: random.Random) -> tuple[str, str]:
    corners = lattice(rng)
    bent = bends(rng, corners)
    tree = io.StringIO()
    writer = csv.writer(tree)
    writer.writerow(["code", "name", "parent_code"])
    townships_across = COLUMNS // BLOCK[0]
    for t in range(1, townships_across + 1):
        writer.writerow([f"T{t:02d}", f"第{t}街道", ""])
    features = []
    for bi in range(COLUMNS // BLOCK[0]):
        for bj in range(ROWS // BLOCK[1]):
            township = f"T{bi + 1:02d}"
            community = f"{township}-C{bj + 1:02d}"
            writer.writerow([community, f"第{bi + 1}街道第{bj + 1}社区", township])
            for g, (di, dj) in enumerate(((di, dj) for dj in range(BLOCK[1]) for di in range(BLOCK[0])), start=1):
                i, j = bi * BLOCK[0] + di, bj * BLOCK[1] + dj
                features.append({"type": "Feature", "geometry": cell_polygon(i, j, corners, bent), "properties": {
                    "code": f"{community}-G{g:02d}", "name": f"{community}第{g}网格", "parent_code": community}})
    return tree.getvalue(), json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False)


def main() -> int:
    return run_in_scratch_database("civicgrid_bench_geo", run)



def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f}/s"


def run() -> None:
    import rtree
    import shapely
    from django.core.management import call_command
    from django.db import connection
    from django_tenants.utils import tenant_context

    from civicgrid.platform.org import geo
    from civicgrid.platform.org.imports import import_grids, import_tree
    from civicgrid.platform.org.models import OrgUnit
    from civicgrid.province.onboarding import ensure_province, onboard_tenant

    print(f"settings={os.environ['DJANGO_SETTINGS_MODULE']} database={connection.settings_dict['NAME']}", flush=True)
    started = time.perf_counter()
    call_command("migrate_all", verbosity=0, no_progress=True, stdout=io.StringIO())
    print(f"setup   migrate_all took {time.perf_counter() - started:.1f}s", flush=True)
    ensure_province(name="浙江省", division_code="330000", domain="localhost")
    onboard_tenant(name="杭州市", division_code="330100", level="city", domain="hangzhou.localhost",
                   admin_password="x" * 12, acting_user=None)
    county = onboard_tenant(name="基准区", division_code="330111", level="county", parent_code="330100",
                            domain="benchgeo.localhost", admin_password="x" * 12, acting_user=None).tenant

    rng = random.Random(SEED)
    tree_csv, grids_geojson = county_files(rng)
    with tenant_context(county):
        t0 = time.perf_counter()
        tree = import_tree(data=tree_csv.encode(), acting_user=None)
        t1 = time.perf_counter()
        grids = import_grids(data=grids_geojson.encode(), acting_user=None)
        t2 = time.perf_counter()
        assert tree.ok and grids.ok, (tree.problems[:5], grids.problems[:5])
        grid_count = OrgUnit.objects.filter(level="grid").count()
        vertices = sum(len(g["coordinates"][0]) - 1 for g in OrgUnit.objects.filter(level="grid")
                       .values_list("boundary", flat=True))
        print(f"import  tree: {len(tree.created)} units in {t1 - t0:.2f}s; grids: {len(grids.created)} in "
              f"{t2 - t1:.2f}s ({rate(len(grids.created), t2 - t1)}); {vertices / grid_count:.1f} vertices per grid",
              flush=True)

        # --- index build -------------------------------------------------------------
        rows = list(OrgUnit.objects.filter(level="grid").values_list("pk", "code", "name", "boundary"))
        load_and_build, build_only = [], []
        for _ in range(5):
            t0 = time.perf_counter()
            locator = geo.build_locator()
            load_and_build.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            geo.GridLocator(rows)
            build_only.append(time.perf_counter() - t0)
        assert len(locator) == grid_count == COLUMNS * ROWS
        print(f"build   {grid_count} grids: load+build median={statistics.median(load_and_build) * 1000:.0f}ms "
              f"build only median={statistics.median(build_only) * 1000:.0f}ms (n=5)", flush=True)

        # --- lookups ------------------------------------------------------------------
        (min_x, min_y), max_x, max_y = ORIGIN, ORIGIN[0] + COLUMNS * CELL, ORIGIN[1] + ROWS * CELL
        grow_x, grow_y = (max_x - min_x) * 0.05, (max_y - min_y) * 0.05
        points = [(rng.uniform(min_x - grow_x, max_x + grow_x), rng.uniform(min_y - grow_y, max_y + grow_y))
                  for _ in range(POINTS)]

        t0 = time.perf_counter()
        answers = [locator.grid_at(x, y) for x, y in points]
        single = time.perf_counter() - t0
        outside = sum(a is None for a in answers)

        geo.forget_all()
        geo.locate_grid_code(*points[0])  # warm: the first call builds
        t0 = time.perf_counter()
        codes = [geo.locate_grid_code(x, y) for x, y in points]
        public = time.perf_counter() - t0
        assert codes == [a.code if a else None for a in answers]

        t0 = time.perf_counter()
        batch_answers = locator.grid_at_many(points)
        batch = time.perf_counter() - t0
        assert batch_answers == answers

        # --- naive: every polygon, every point ---------------------------------------------
        polygons = [(entry, polygon) for entry, polygon in zip(locator.entries, locator.polygons, strict=True)]
        sample = points[:NAIVE_POINTS]
        t0 = time.perf_counter()
        naive_answers = []
        for x, y in sample:
            best = None
            for entry, polygon in polygons:
                if shapely.intersects_xy(polygon, x, y) and (best is None or entry.area < best.area):
                    best = entry
            naive_answers.append(best)
        naive = time.perf_counter() - t0
        disagree = sum(1 for a, b in zip(naive_answers, answers[:NAIVE_POINTS], strict=True)
                       if (a and a.code) != (b and b.code))

        sample = points[:ORM_POINTS]
        t0 = time.perf_counter()
        units = [geo.locate_grid(x, y) for x, y in sample]
        orm = time.perf_counter() - t0
        assert [u.code if u else None for u in units] == codes[:ORM_POINTS]

    print()
    print(f"lookup  rtree single  n={POINTS:,} {single:.2f}s {rate(POINTS, single)} "
          f"({single / POINTS * 1e6:.1f}µs each; {outside:,} outside every grid)")
    print(f"lookup  locate_grid_code n={POINTS:,} {public:.2f}s {rate(POINTS, public)} (with the version check)")
    print(f"lookup  rtree batch   n={POINTS:,} {batch:.2f}s {rate(POINTS, batch)}")
    print(f"lookup  naive loop    n={NAIVE_POINTS:,} {naive:.2f}s {rate(NAIVE_POINTS, naive)} "
          f"(every one of {grid_count} polygons; {disagree} answers differ from the R-tree's)")
    print(f"lookup  locate_grid (+ OrgUnit row) n={ORM_POINTS:,} {orm:.2f}s {rate(ORM_POINTS, orm)}")
    naive_rate, single_rate, batch_rate = NAIVE_POINTS / naive, POINTS / single, POINTS / batch
    print(f"ratio   rtree single / naive = {single_rate / naive_rate:,.0f}x; batch / naive = "
          f"{batch_rate / naive_rate:,.0f}x")

    print()
    print(machine_line(f"rtree={rtree.__version__}", f"libspatialindex={rtree.core.rt.SIDX_Version().decode()}",
                       f"shapely={shapely.__version__}", f"geos={shapely.geos_version_string}"), flush=True)


if __name__ == "__main__":
    sys.exit(main())
