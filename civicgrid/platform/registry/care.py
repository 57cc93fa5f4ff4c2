"""Checking the values of a care record against the fields its kind declares."""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def _convert(field: dict, raw):
    kind = field.get("type", "text")
    if kind == "text":
        return str(raw).strip()
    if kind == "integer":
        if isinstance(raw, bool):
            raise ValueError
        return int(str(raw).strip())
    if kind == "decimal":
        try:
            return str(Decimal(str(raw).strip()))
        except InvalidOperation as exc:
            raise ValueError from exc
    if kind == "date":
        return datetime.date.fromisoformat(str(raw).strip()).isoformat()
    if kind == "boolean":
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in ("true", "1", "yes", "是"):
            return True
        if text in ("false", "0", "no", "否"):
            return False
        raise ValueError
    if kind == "choice":
        if raw not in field.get("choices", []):
            raise ValueError
        return raw
    raise ValueError


def clean_care_values(fields: list[dict], values: dict) -> dict:
    errors: dict[str, list[str]] = {}
    clean = {}
    declared = {f["name"]: f for f in fields}
    for name in values:
        if name not in declared:
            errors.setdefault(name, []).append(_("This kind has no field %(name)s.") % {"name": name})
    for name, field in declared.items():
        raw = values.get(name)
        if raw in (None, ""):
            if field.get("required"):
                errors.setdefault(name, []).append(_("%(label)s is required.") % {"label": field.get("label", name)})
            continue
        try:
            clean[name] = _convert(field, raw)
        except (ValueError, TypeError):
            errors.setdefault(name, []).append(
                _("%(label)s is not a valid %(type)s.") % {"label": field.get("label", name), "type": field.get("type")}
            )
    if errors:
        raise ValidationError(errors)
    return clean
