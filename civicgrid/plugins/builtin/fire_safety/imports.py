"""The import target ``fire_safety.units``: a department's CSV/XLSX of fire-risk units."""

from __future__ import annotations

from .actions import clean_unit, save_units, unit_values
from .models import RiskUnit


def clean(values: dict, context) -> dict:
    return clean_unit(values, context.grid_id)


def current(keys: list[str]) -> dict:
    return {unit.code: unit_values(unit) for unit in RiskUnit.objects.filter(code__in=keys)}


def apply(new: list[dict], changed: list[dict], *, actor) -> None:
    save_units(new=new, changed=changed, actor=actor, source="import")
