"""Building the org tree and the departments. Every entry point (console, API,
imports, the demo) calls these."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils.translation import gettext as _

from civicgrid.platform.audit.actions import record

from . import geo
from .geometry import validate_boundary
from .models import Department, OrgUnit

GRID_INDEX_VERSION_KEY = geo.VERSION_KEY


def grids_changed(schema: str | None = None) -> None:
    """Tell every process that its point → grid index of ``schema`` (default: the
    connection's) is stale."""
    geo.bump_version(schema or connection.schema_name)


class _GridsChangedAfterCommit:
    """The on-commit callback; it remembers its schema and whether it has run."""

    def __init__(self, schema: str):
        self.schema = schema
        self.ran = False

    def __call__(self):
        self.ran = True
        grids_changed(self.schema)


def _grids_changed_on_commit() -> None:
    """Once per transaction, however many grids it touches (an import touches
    thousands), and for the schema the change was made in, whatever the
    connection points at when the commit comes. A callback that already ran
    (tests run them before the end of their transaction) does not count."""
    schema = connection.schema_name
    for _sids, func, *_rest in getattr(connection, "run_on_commit", []):
        if isinstance(func, _GridsChangedAfterCommit) and func.schema == schema and not func.ran:
            return
    transaction.on_commit(_GridsChangedAfterCommit(schema))


def create_org_unit(*, code: str, name: str, parent: OrgUnit | None = None, boundary: dict | None = None,
                    acting_user) -> OrgUnit:
    code, name = code.strip(), name.strip()
    if not code or not name:
        raise ValidationError(_("An org unit needs a code and a name."))
    level = OrgUnit.CHILD_LEVEL.get(parent.level if parent else None)
    if level is None:
        raise ValidationError(_("A grid cannot have units below it."))
    if boundary is not None:
        if level != OrgUnit.Level.GRID:
            raise ValidationError(_("Only grids carry a boundary."))
        validate_boundary(boundary)
    if OrgUnit.objects.filter(code=code).exists():
        raise ValidationError(_("The code %(code)s is already used.") % {"code": code})
    with transaction.atomic():
        unit = OrgUnit.objects.create(code=code, name=name, level=level, parent=parent, boundary=boundary,
                                      path=OrgUnit.path_for(code, parent))
        record(action="org.unit_created", actor=acting_user, target=unit, code=code, level=level)
        if level == OrgUnit.Level.GRID:
            _grids_changed_on_commit()
    return unit


def set_grid_boundary(*, grid: OrgUnit, boundary: dict, acting_user) -> OrgUnit:
    if grid.level != OrgUnit.Level.GRID:
        raise ValidationError(_("Only grids carry a boundary."))
    validate_boundary(boundary)
    with transaction.atomic():
        grid.boundary = boundary
        grid.save(update_fields=["boundary", "updated_at"])
        record(action="org.boundary_set", actor=acting_user, target=grid)
        _grids_changed_on_commit()
    return grid


def create_department(*, code: str, name: str, level: str = Department.Level.COUNTY,
                      township: OrgUnit | None = None, acting_user) -> Department:
    if level == Department.Level.TOWNSHIP and (township is None or township.level != OrgUnit.Level.TOWNSHIP):
        raise ValidationError(_("A township department needs its township."))
    if level == Department.Level.COUNTY:
        township = None
    if Department.objects.filter(code=code).exists():
        raise ValidationError(_("The code %(code)s is already used.") % {"code": code})
    with transaction.atomic():
        department = Department.objects.create(code=code, name=name, level=level, township=township)
        record(action="org.department_created", actor=acting_user, target=department, code=code)
    return department
