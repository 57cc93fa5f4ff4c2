"""What a batch can fill: the registry's persons, or a plugin's registry.

Plugins name their registries through the ``civicgrid_import_targets`` hook
(``civicgrid.plugins.ImportTarget``); a tenant sees only those of the plugins it
has switched on, so a switched-off plugin's batches cannot be run or opened.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import connection
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from civicgrid.plugins.manager import tenant_hooks
from civicgrid.plugins.types import ImportField, ImportTarget

from .headers import header_key
from .models import PERSONS, REQUIRED_FIELDS, Field

PERSONS_LABEL = _l("Persons")


@dataclass(frozen=True)
class Choice:
    code: str
    label: str


def plugin_targets() -> dict[str, ImportTarget]:
    """The current tenant's plugin registries, by code."""
    return {target.code: target for target in tenant_hooks(connection.tenant).collect("civicgrid_import_targets")}


def choices() -> list[Choice]:
    return [Choice(PERSONS, str(PERSONS_LABEL)),
            *(Choice(code, str(target.label)) for code, target in sorted(plugin_targets().items()))]


def plugin_target(code: str) -> ImportTarget | None:
    """The plugin's target for ``code``; None for persons. Refuses a code this tenant has not."""
    if code == PERSONS:
        return None
    target = plugin_targets().get(code)
    if target is None:
        raise ValidationError(_("%(target)s cannot be imported here (its module is not switched on).")
                              % {"target": code}, code="target")
    return target


def label(code: str) -> str:
    if code == PERSONS:
        return str(PERSONS_LABEL)
    target = plugin_targets().get(code)
    return str(target.label) if target else code


def fields(code: str) -> list[tuple[str, str]]:
    """(value, label) of what a column can be mapped to."""
    target = plugin_target(code)
    if target is None:
        return list(Field.choices)
    return [(field.name, field.label) for field in target.fields]


def required(code: str) -> list[tuple[str, str]]:
    target = plugin_target(code)
    if target is None:
        return [(field.value, field.label) for field in REQUIRED_FIELDS]
    return [(field.name, field.label) for field in target.fields if field.required or field.name == target.key]


def guess(target: ImportTarget, header: list[str]) -> dict[str, str]:
    """File column → field, from each field's name, label and spellings."""
    known: dict[str, str] = {}
    for field in target.fields:
        for spelling in (field.name, str(field.label), *field.spellings):
            known.setdefault(header_key(spelling), field.name)
    mapping, taken = {}, set()
    for column in header:
        field = known.get(header_key(column))
        if field and field not in taken:
            mapping[column] = field
            taken.add(field)
    return mapping


__all__ = ["PERSONS", "Choice", "ImportField", "ImportTarget", "choices", "fields", "guess", "label",
           "plugin_target", "plugin_targets", "required"]
