"""Importing the org tree (CSV) and grid boundaries (GeoJSON).

Both check the whole file first and apply nothing if anything is wrong, naming
each bad row or feature and the reason. A clean file is applied in one
transaction through ``actions.create_org_unit`` / ``set_grid_boundary``; rows
that already match the database are left alone, so importing the same file
twice changes nothing the second time. Renaming or moving a unit is not an
import's job: a row that disagrees with an existing unit is reported.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from civicgrid.platform.audit.actions import record
from civicgrid.platform.files.spreadsheets import decode_text

from .actions import create_org_unit, set_grid_boundary
from .geometry import validate_boundary
from .models import OrgUnit

# Depth below the county → level (a row with no parent is a township).
LEVELS = [OrgUnit.Level.TOWNSHIP, OrgUnit.Level.VILLAGE, OrgUnit.Level.GRID]
TREE_COLUMNS = ("code", "name", "parent_code")
CODE_MAX = OrgUnit._meta.get_field("code").max_length
NAME_MAX = OrgUnit._meta.get_field("name").max_length
PATH_MAX = OrgUnit._meta.get_field("path").max_length

Progress = Callable[[int, int, str], None]


@dataclass
class Problem:
    where: str  # "line 4", "feature 2", "file"
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}{f' ({self.code})' if self.code else ''}: {self.message}"


@dataclass
class ImportResult:
    problems: list[Problem] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def refuse(self, where: str, code: str, message: str) -> None:
        self.problems.append(Problem(where=where, code=code, message=str(message)))


def decode(data: bytes | str) -> str:
    """UTF-8 (with or without BOM) or GBK, as spreadsheets in China save them."""
    if isinstance(data, str):
        return data
    text = decode_text(data)
    if text is None:
        raise ValidationError(_("The file is neither UTF-8 nor GBK text."))
    return text


def _noop(done: int, total: int, phase: str) -> None:
    pass


def _existing_units() -> dict[str, dict]:
    return {u["code"]: u for u in OrgUnit.objects.values("pk", "code", "name", "level", "parent__code", "path",
                                                          "boundary")}


def _message(error: ValidationError) -> str:
    return " ".join(error.messages)


# --- the tree (CSV) -----------------------------------------------------------


@dataclass
class TreeRow:
    line: int
    code: str
    name: str
    parent_code: str
    depth: int | None = None


def import_tree(*, data: bytes | str, acting_user, progress: Progress | None = None) -> ImportResult:
    progress = progress or _noop
    result = ImportResult()
    try:
        text = decode(data)
    except ValidationError as exc:
        result.refuse(_("file"), "", _message(exc))
        return result
    rows = _read_tree_rows(text, result)
    if not result.ok:
        return result
    existing = _existing_units()
    rows = _check_tree(rows, existing, result, progress)
    if not result.ok:
        return result
    to_create = [row for row in rows if row.code not in existing]
    result.unchanged = [row.code for row in rows if row.code in existing]
    try:
        with transaction.atomic():
            made: dict[str, OrgUnit] = {}
            # Parents first: depth orders the rows so every parent exists when its child comes.
            for done, row in enumerate(sorted(to_create, key=lambda r: (r.depth, r.line)), start=1):
                parent = None
                if row.parent_code:
                    parent = made.get(row.parent_code) or OrgUnit.objects.get(code=row.parent_code)
                made[row.code] = create_org_unit(code=row.code, name=row.name, parent=parent,
                                                 acting_user=acting_user)
                result.created.append(row.code)
                progress(done, len(to_create), "apply")
            if to_create:
                record(action="org.tree_imported", actor=acting_user, created=len(to_create),
                       unchanged=len(result.unchanged))
    except (ValidationError, IntegrityError, OrgUnit.DoesNotExist) as exc:
        # Someone changed the tree between the check and the write: nothing of this file stays.
        result.created = []
        result.refuse(_("file"), "", _message(exc) if isinstance(exc, ValidationError)
                      else _("The tree changed while importing; nothing was applied. Try again."))
    return result


def _read_tree_rows(text: str, result: ImportResult) -> list[TreeRow]:
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    columns = [c.strip().lower().lstrip("\ufeff") for c in header or []]
    missing = [c for c in TREE_COLUMNS if c not in columns]
    if missing:
        result.refuse(_("line %(line)d") % {"line": 1}, "",
                      _("The header needs the columns code, name, parent_code; missing: %(missing)s")
                      % {"missing": ", ".join(missing)})
        return []
    at = {c: columns.index(c) for c in TREE_COLUMNS}
    rows = []
    for line, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue
        value = {c: (values[i].strip() if i < len(values) else "") for c, i in at.items()}
        rows.append(TreeRow(line=line, code=value["code"], name=value["name"], parent_code=value["parent_code"]))
    if not rows:
        result.refuse(_("file"), "", _("The file has no rows."))
    return rows


def _check_code(code: str) -> str | None:
    if not code:
        return _("The code is empty.")
    if "/" in code or any(ch.isspace() for ch in code):
        return _("A code cannot contain '/' or spaces.")
    if len(code) > CODE_MAX:
        return _("A code has at most %(max)d characters.") % {"max": CODE_MAX}
    return None


def _check_tree(rows: list[TreeRow], existing: dict[str, dict], result: ImportResult,
                progress: Progress) -> list[TreeRow]:
    by_code: dict[str, TreeRow] = {}
    in_file = {row.code for row in rows}
    for row in rows:
        where = _("line %(line)d") % {"line": row.line}
        problem = _check_code(row.code)
        if problem is None and not row.name:
            problem = _("The name is empty.")
        if problem is None and len(row.name) > NAME_MAX:
            problem = _("A name has at most %(max)d characters.") % {"max": NAME_MAX}
        if problem is None and row.code in by_code:
            problem = _("The code %(code)s is also on line %(line)d.") % {
                "code": row.code, "line": by_code[row.code].line}
        if problem is None and row.parent_code == row.code:
            problem = _("A unit cannot be its own parent.")
        if problem is None and row.parent_code and row.parent_code not in in_file \
                and row.parent_code not in existing:
            problem = _("The parent %(parent)s is neither in the file nor in the tree.") % {
                "parent": row.parent_code}
        if problem:
            result.refuse(where, row.code, problem)
            continue
        by_code[row.code] = row

    depth_of_existing = {code: LEVELS.index(unit["level"]) for code, unit in existing.items()}
    for done, row in enumerate(by_code.values(), start=1):
        progress(done, len(by_code), "check")
        where = _("line %(line)d") % {"line": row.line}
        depth, chain, cycle = _depth(row, by_code, depth_of_existing)
        if cycle:
            result.refuse(where, row.code, _("The parents go round in a circle: %(chain)s")
                          % {"chain": " → ".join(chain)})
            continue
        if depth is None:
            continue  # an ancestor row was refused already; its own line says why
        if depth >= len(LEVELS):
            result.refuse(where, row.code, _("%(code)s would sit below the grid %(grid)s; a grid cannot have "
                                             "units below it.") % {"code": row.code, "grid": row.parent_code})
            continue
        row.depth = depth
        unit = existing.get(row.code)
        if unit is not None:
            if unit["name"] != row.name or (unit["parent__code"] or "") != row.parent_code:
                result.refuse(where, row.code, _(
                    "%(code)s already exists as %(name)s under %(parent)s; an import does not rename or move units."
                ) % {"code": row.code, "name": unit["name"], "parent": unit["parent__code"] or "—"})
            continue
        parent_path = existing[row.parent_code]["path"] if row.parent_code in existing else ""
        if len(_path(row, by_code, parent_path)) > PATH_MAX:
            result.refuse(where, row.code, _("The codes above this unit are too long together."))
    return [row for row in by_code.values() if row.depth is not None]


def _depth(row: TreeRow, by_code: dict[str, TreeRow], depth_of_existing: dict[str, int]):
    """(depth, chain, is_cycle). A parent in the file wins over one in the database:
    the file is describing it too (and an existing code in the file must match)."""
    chain = [row.code]
    seen = {row.code}
    current = row
    steps = 0
    while current.parent_code:
        parent_code = current.parent_code
        if parent_code in by_code:
            if parent_code in seen:
                return None, [*chain, parent_code], row.code in chain[chain.index(parent_code):]
            chain.append(parent_code)
            seen.add(parent_code)
            current = by_code[parent_code]
            steps += 1
            continue
        if parent_code in depth_of_existing:
            return steps + depth_of_existing[parent_code] + 1, chain, False
        return None, chain, False  # unknown parent: refused on its own line
    return steps, chain, False


def _path(row: TreeRow, by_code: dict[str, TreeRow], parent_path: str) -> str:
    codes = []
    current = row
    while current is not None:
        codes.append(current.code)
        current = by_code.get(current.parent_code)
    return parent_path + "".join(f"{c}/" for c in reversed(codes))


# --- grid boundaries (GeoJSON) --------------------------------------------------


@dataclass
class GridFeature:
    number: int
    code: str
    geometry: dict
    name: str = ""
    parent_code: str = ""


def import_grids(*, data: bytes | str, acting_user, progress: Progress | None = None) -> ImportResult:
    progress = progress or _noop
    result = ImportResult()
    try:
        collection = json.loads(decode(data))
    except (ValidationError, ValueError) as exc:
        result.refuse(_("file"), "", _message(exc) if isinstance(exc, ValidationError)
                      else _("The file is not JSON: %(error)s") % {"error": exc})
        return result
    features = _read_features(collection, result)
    if features is None:
        return result
    existing = _existing_units()
    create, update = _check_features(features, existing, result, progress)
    if not result.ok:
        return result
    total = len(create) + len(update)
    try:
        with transaction.atomic():
            parents = {u.code: u for u in OrgUnit.objects.filter(code__in={f.parent_code for f in create})}
            done = 0
            for feature in create:
                create_org_unit(code=feature.code, name=feature.name, parent=parents[feature.parent_code],
                                boundary=feature.geometry, acting_user=acting_user)
                result.created.append(feature.code)
                done += 1
                progress(done, total, "apply")
            grids = {u.code: u for u in OrgUnit.objects.filter(code__in=[f.code for f in update])}
            for feature in update:
                set_grid_boundary(grid=grids[feature.code], boundary=feature.geometry, acting_user=acting_user)
                result.updated.append(feature.code)
                done += 1
                progress(done, total, "apply")
            if total:
                record(action="org.grids_imported", actor=acting_user, created=len(create), updated=len(update),
                       unchanged=len(result.unchanged))
    except (ValidationError, IntegrityError, KeyError) as exc:
        result.created, result.updated = [], []
        result.refuse(_("file"), "", _message(exc) if isinstance(exc, ValidationError)
                      else _("The tree changed while importing; nothing was applied. Try again."))
    return result


def _read_features(collection, result: ImportResult) -> list[GridFeature] | None:
    """The features worth checking further; None when the file itself is wrong."""
    if not isinstance(collection, dict) or collection.get("type") != "FeatureCollection" \
            or not isinstance(collection.get("features"), list):
        result.refuse(_("file"), "", _("The file must be a GeoJSON FeatureCollection."))
        return None
    if not collection["features"]:
        result.refuse(_("file"), "", _("The FeatureCollection has no features."))
        return None
    features = []
    for number, feature in enumerate(collection["features"], start=1):
        where = _("feature %(number)d") % {"number": number}
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            result.refuse(where, "", _("Not a GeoJSON Feature."))
            continue
        properties = feature.get("properties") or {}
        code = str(properties.get("code") or "").strip()
        if not code:
            result.refuse(where, "", _("The feature has no code property."))
            continue
        geometry = feature.get("geometry")
        if isinstance(geometry, dict):
            # Only what a boundary is: a stray bbox or crs member would make a re-import look like a change.
            geometry = {"type": geometry.get("type"), "coordinates": geometry.get("coordinates")}
        features.append(GridFeature(number=number, code=code, geometry=geometry,
                                    name=str(properties.get("name") or "").strip(),
                                    parent_code=str(properties.get("parent_code") or "").strip()))
    return features


def _check_features(features: list[GridFeature], existing: dict[str, dict], result: ImportResult,
                    progress: Progress) -> tuple[list[GridFeature], list[GridFeature]]:
    create, update, seen = [], [], {}
    for done, feature in enumerate(features, start=1):
        progress(done, len(features), "check")
        where = _("feature %(number)d") % {"number": feature.number}

        def refuse(message, feature=feature, where=where):
            result.refuse(where, feature.code, message)

        if feature.code in seen:
            refuse(_("The code %(code)s is also feature %(number)d.") % {"code": feature.code,
                                                                          "number": seen[feature.code]})
            continue
        seen[feature.code] = feature.number
        try:
            validate_boundary(feature.geometry)
        except ValidationError as exc:
            refuse(_message(exc))
            continue
        unit = existing.get(feature.code)
        if unit is not None:
            if unit["level"] != OrgUnit.Level.GRID:
                refuse(_("%(code)s is not a grid; only grids carry a boundary.") % {"code": feature.code})
            elif (feature.name and feature.name != unit["name"]) or \
                    (feature.parent_code and feature.parent_code != (unit["parent__code"] or "")):
                refuse(_("%(code)s already exists as %(name)s under %(parent)s; an import does not rename or "
                         "move units.") % {"code": feature.code, "name": unit["name"],
                                           "parent": unit["parent__code"] or "—"})
            elif unit["boundary"] == feature.geometry:
                result.unchanged.append(feature.code)
            else:
                update.append(feature)
            continue
        problem = _check_code(feature.code)
        if problem is None and not (feature.name and feature.parent_code):
            problem = _("There is no grid %(code)s; to create it, give its name and parent_code.") % {
                "code": feature.code}
        if problem is None and len(feature.name) > NAME_MAX:
            problem = _("A name has at most %(max)d characters.") % {"max": NAME_MAX}
        if problem is None:
            parent = existing.get(feature.parent_code)
            if parent is None:
                problem = _("The parent %(parent)s is not in the tree.") % {"parent": feature.parent_code}
            elif parent["level"] == OrgUnit.Level.GRID:
                problem = _("%(parent)s is a grid; a grid cannot sit below a grid.") % {
                    "parent": feature.parent_code}
            elif parent["level"] != OrgUnit.Level.VILLAGE:
                problem = _("A grid's parent must be a village or community; %(parent)s is a township.") % {
                    "parent": feature.parent_code}
            elif len(parent["path"]) + len(feature.code) + 1 > PATH_MAX:
                problem = _("The codes above this unit are too long together.")
        if problem:
            refuse(problem)
        else:
            create.append(feature)
    return create, update
