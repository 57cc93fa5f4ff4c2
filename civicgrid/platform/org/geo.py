"""Point → grid lookup: which grid of this tenant holds a longitude/latitude.

Each process keeps one ``GridLocator`` per schema: an R-tree over the grids'
bounding boxes and prepared shapely polygons for the exact test. It is built
from the database on first use and rebuilt when the grids change:
``actions.grids_changed`` bumps a version key in the default cache (whose keys
carry the schema, so each tenant has its own) and drops this process's copy at
once; other processes (web, workers) notice the new version within
``VERSION_CHECK_SECONDS``.

Locators are keyed by ``connection.schema_name``; with no tenant set, lookups
raise instead of answering from some other schema.

Caveat: a locator built inside a transaction sees that transaction's
uncommitted grids. If such a transaction rolls back after a lookup, the copy
lives on until the next change; call ``forget`` after rolling back such work
(tests in a rolled-back transaction do this).
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from django.core.cache import cache
from django.db import connection
from django_tenants.utils import get_public_schema_name, schema_context
from rtree import index
from shapely.geometry import shape

from .models import OrgUnit

VERSION_KEY = "org:grid-index-version"
# How long a process trusts its locator before asking the cache whether the
# grids moved. A Redis read costs about as much as ten lookups, so not on every call.
VERSION_CHECK_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class GridEntry:
    pk: int
    code: str
    name: str
    area: float  # square degrees; only for ordering overlaps
    path: str = ""  # the grid's place in the tree (fixed when the grid is made)


class GridLocator:
    """Grids of one schema, smallest first where they overlap.

    Entries are numbered in (area, code) order, so the R-tree ids of the grids
    covering a point, sorted, are already smallest first. A point on a boundary
    belongs to the grid (``covers``, not ``contains``); on an edge two grids
    share, the smaller grid wins, then the lower code.
    """

    def __init__(self, rows: Iterable[tuple]):
        """``rows``: (pk, code, name, boundary GeoJSON[, path])."""
        shapes = []
        for pk, code, name, geometry, *path in rows:
            polygon = _polygon(geometry)
            if polygon is not None:
                shapes.append((polygon.area, code, pk, name, polygon, path[0] if path else ""))
        # Areas rounded to about a square centimetre: equal tiles computed in floating
        # point differ in the last bits, and the code should decide between them.
        shapes.sort(key=lambda s: (round(s[0], 14), s[1]))
        self.entries = [GridEntry(pk=pk, code=code, name=name, area=area, path=path)
                        for area, code, pk, name, _, path in shapes]
        self.polygons = [s[4] for s in shapes]  # a list: indexing it is faster than an array's
        self.polygon_array = np.array(self.polygons, dtype=object)
        if shapes:
            shapely.prepare(self.polygon_array)
        # Bulk loading from a stream packs the tree (much faster than one insert per grid).
        self.index = index.Index(
            ((i, polygon.bounds, None) for i, polygon in enumerate(self.polygons))
        ) if shapes else None

    def __len__(self) -> int:
        return len(self.entries)

    def ids_at(self, lng: float, lat: float) -> list[int]:
        if self.index is None:
            return []
        polygons = self.polygons
        return sorted(i for i in self.index.intersection((lng, lat, lng, lat))
                      if shapely.intersects_xy(polygons[i], lng, lat))

    def grids_at(self, lng: float, lat: float) -> list[GridEntry]:
        return [self.entries[i] for i in self.ids_at(lng, lat)]

    def grid_at(self, lng: float, lat: float) -> GridEntry | None:
        ids = self.ids_at(lng, lat)
        return self.entries[ids[0]] if ids else None

    def grid_at_many(self, points: Sequence[tuple[float, float]]) -> list[GridEntry | None]:
        """The smallest covering grid of each point, in one pass (imports, benchmarks)."""
        if not len(points):
            return []
        xy = np.asarray(points, dtype=float).reshape(-1, 2)
        best = np.full(len(xy), len(self.entries), dtype=np.int64)
        if self.index is not None:
            ids, counts = self.index.intersection_v(xy, xy)
            ids = ids.astype(np.int64)  # rtree answers in uint64, which numpy will not mix with indexes
            owners = np.repeat(np.arange(len(xy)), counts.astype(np.int64))
            hits = shapely.intersects_xy(self.polygon_array[ids], xy[owners, 0], xy[owners, 1])
            np.minimum.at(best, owners[hits], ids[hits])
        return [self.entries[i] if i < len(self.entries) else None for i in best]


def _polygon(geometry):
    """A usable shapely polygon from stored GeoJSON; None for what cannot cover a point."""
    if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        return None
    try:
        polygon = shape(geometry)
    except Exception:  # bad data must not stop the other grids from being found
        return None
    if not polygon.is_valid:
        polygon = shapely.make_valid(polygon)
    return None if polygon.is_empty or polygon.area == 0 else polygon


def build_locator() -> GridLocator:
    rows = (OrgUnit.objects.filter(level=OrgUnit.Level.GRID, boundary__isnull=False)
            .values_list("pk", "code", "name", "boundary", "path").iterator(chunk_size=2000))
    return GridLocator(rows)


# --- the per-process cache ----------------------------------------------------


@dataclass
class _Cached:
    locator: GridLocator
    version: object
    checked_at: float


logger = logging.getLogger(__name__)
_locators: dict[str, _Cached] = {}
_build_locks: dict[str, threading.Lock] = {}


@functools.cache
def _public_schema() -> str:
    return get_public_schema_name()  # a setting; reading it costs as much as a lookup


def _schema() -> str:
    schema = connection.schema_name
    if not schema or schema == _public_schema():
        raise RuntimeError("grid lookups need a tenant; none is set on the connection")
    return schema


def locator() -> GridLocator:
    """This schema's locator, rebuilt if the grids changed since it was built."""
    schema = _schema()
    now = time.monotonic()
    cached = _locators.get(schema)
    if cached is not None and now - cached.checked_at < VERSION_CHECK_SECONDS:
        return cached.locator
    # Read the version before the grids: a change landing in between makes the
    # next check rebuild again rather than keep a stale index.
    version = _grid_version()
    if cached is not None and (cached.version == version or version is _UNKNOWN):
        # Unknown (the cache is down): a possibly stale index beats refusing a report.
        cached.checked_at = now
        return cached.locator
    # One build per schema at a time; other tenants' threads are not held up.
    with _build_locks.setdefault(schema, threading.Lock()):
        cached = _locators.get(schema)
        if cached is None or cached.version != version:
            cached = _Cached(build_locator(), version, time.monotonic())
            _locators[schema] = cached
    return cached.locator


_UNKNOWN = object()


def _grid_version():
    try:
        return cache.get(VERSION_KEY)
    except Exception:  # Redis down: lookups go on with what this process has
        logger.warning("grid locator: the cache is unreachable; using the index this process holds")
        return _UNKNOWN


def grids_version():
    """The current version of the tenant's grids (changes whenever a boundary does), or None
    when unknown (never bumped, or Redis unreachable): for caches of drawn grids."""
    version = _grid_version()
    return None if version is _UNKNOWN else version


def forget(schema: str | None = None) -> None:
    """Drop this process's locator for ``schema`` (default: the connection's)."""
    _locators.pop(schema or connection.schema_name, None)


def forget_all() -> None:
    _locators.clear()


def bump_version(schema: str) -> None:
    """Tell every process that ``schema``'s grids changed."""
    with schema_context(schema):  # the cache's key function reads the schema from the connection
        try:
            cache.incr(VERSION_KEY)
        except ValueError:
            # Start from the clock, not 1: a key evicted and re-created must not
            # come back with a version some process still holds.
            cache.set(VERSION_KEY, time.time_ns(), None)
    forget(schema)


# --- the API ------------------------------------------------------------------


def grid_codes_at(lng: float, lat: float) -> list[str]:
    """Codes of every grid covering the point, smallest first (no database query)."""
    return [entry.code for entry in locator().grids_at(lng, lat)]


def locate_grid_code(lng: float, lat: float) -> str | None:
    entry = locator().grid_at(lng, lat)
    return entry.code if entry else None


def grids_at(lng: float, lat: float) -> list[OrgUnit]:
    """Every grid covering the point, smallest first."""
    entries = locator().grids_at(lng, lat)
    units = OrgUnit.objects.in_bulk([e.pk for e in entries])
    return [units[e.pk] for e in entries if e.pk in units]


def locate_grid(lng: float, lat: float) -> OrgUnit | None:
    """The grid holding the point (the smallest where grids overlap), or None."""
    found = grids_at(lng, lat)
    return found[0] if found else None


def locate_grid_ref(lng: float, lat: float) -> OrgUnit | None:
    """The same grid as ``locate_grid``, from the index alone (no query): its id, code,
    name and path are loaded and every other field is deferred (read from the database
    only if something asks for it). For the report's hot path."""
    entry = locator().grid_at(lng, lat)
    if entry is None:
        return None
    if not entry.path:  # an index built from rows without paths
        return OrgUnit.objects.filter(pk=entry.pk).first()
    known = {"id": entry.pk, "code": entry.code, "name": entry.name, "path": entry.path,
             "level": OrgUnit.Level.GRID}
    # from_db takes the loaded values in the model's field order.
    fields = [f.attname for f in OrgUnit._meta.concrete_fields if f.attname in known]
    return OrgUnit.from_db("default", fields, [known[name] for name in fields])
