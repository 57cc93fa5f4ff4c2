"""The schools' registry filled from an education bureau's CSV/XLSX through the registry's
import pipeline (``ImportTarget`` "school_surroundings.schools", keyed on the school code)."""

from __future__ import annotations

from datetime import time
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from civicgrid.platform.audit.actions import record
from civicgrid.platform.org.models import OrgUnit
from civicgrid.plugins import ImportField, ImportTarget

from . import actions
from .models import DEFAULT_RADIUS_M, School, SchoolKind

CODE = "school_surroundings.schools"
FIELDS = (
    ImportField("code", _l("School code"), required=True, spellings=("学校代码", "学校编码", "学校标识码", "code")),
    ImportField("name", _l("School name"), required=True, spellings=("学校名称", "名称", "name")),
    ImportField("kind", _l("Kind of school"), required=True, spellings=("学校类型", "学段", "办学类型", "kind")),
    ImportField("address", _l("Address"), required=True, spellings=("地址", "学校地址", "address")),
    ImportField("grid", _l("Grid code"), required=True, spellings=("网格", "网格编码", "所属网格", "grid")),
    ImportField("latitude", _l("Latitude"), required=True, spellings=("纬度", "latitude", "lat")),
    ImportField("longitude", _l("Longitude"), required=True, spellings=("经度", "longitude", "lng", "lon")),
    ImportField("pupils", _l("Pupils"), spellings=("在校生数", "学生人数", "学生数", "pupils")),
    ImportField("contact", _l("Contact"), spellings=("联系人", "联系方式", "contact")),
    ImportField("opens_at", _l("Opens at"), spellings=("上学时间", "到校时间", "opens")),
    ImportField("closes_at", _l("Closes at"), spellings=("放学时间", "离校时间", "closes")),
    ImportField("radius_m", _l("Zone radius (m)"), spellings=("周边半径", "半径", "radius")),
)
# A kind as a department writes it: the code, the Chinese or the English name.
KIND_NAMES = {"幼儿园": "kindergarten", "小学": "primary", "初中": "junior", "初级中学": "junior",
              "高中": "senior", "高级中学": "senior", "中职": "vocational", "中等职业学校": "vocational",
              "九年一贯制": "nine_year", "九年一贯制学校": "nine_year"}


def _kind(text: str) -> str:
    text = text.strip()
    if text in SchoolKind.values:
        return text
    if text in KIND_NAMES:
        return KIND_NAMES[text]
    for value, label in SchoolKind.choices:
        if text.lower() == str(label).lower():
            return value
    raise ValidationError({"kind": _("Unknown kind of school %(kind)s: write 幼儿园, 小学, 初中, 高中, 中职 or "
                                     "九年一贯制.") % {"kind": text}})


def _time(text: str, name: str) -> str:
    try:
        hours, minutes = text.strip().replace("：", ":").split(":")[:2]
        return time(int(hours), int(minutes)).strftime("%H:%M")
    except (ValueError, TypeError) as exc:
        raise ValidationError({name: _("Write the time as HH:MM, e.g. 07:30.")}) from exc


def clean(values: dict, context) -> dict:
    """One row as JSON-able values (only the mapped fields), or ValidationError by field."""
    errors: dict[str, list[str]] = {}
    out: dict = {}
    for name in ("code", "name", "address"):
        if name in values:
            out[name] = values[name].strip()
    if "kind" in values:
        try:
            out["kind"] = _kind(values["kind"])
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if "grid" in values:
        if context.grid_id(values["grid"]) is None:
            errors["grid"] = [_("There is no grid with the code %(code)s.") % {"code": values["grid"]}]
        out["grid"] = values["grid"].strip()
    for name in ("latitude", "longitude"):
        if name in values:
            out[name] = values[name].strip()
    if "pupils" in values:
        out["pupils"] = values["pupils"].strip() or "0"
    if "contact" in values:
        out["contact"] = values["contact"].strip()
    for name in ("opens_at", "closes_at"):
        if values.get(name, "").strip():
            try:
                out[name] = _time(values[name], name)
            except ValidationError as exc:
                errors.update(exc.message_dict)
    if "radius_m" in values:
        out["radius_m"] = values["radius_m"].strip() or str(DEFAULT_RADIUS_M)
    # The same checks as the console's (lengths, ranges, NUL), on the fields that convert.
    probe = {k: v for k, v in out.items() if k not in errors and k not in ("grid", "code")}
    if "opens_at" in probe:
        probe["opens_at"] = time.fromisoformat(probe["opens_at"])
    if "closes_at" in probe:
        probe["closes_at"] = time.fromisoformat(probe["closes_at"])
    try:
        checked = actions.clean_school(probe)
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            errors.setdefault(name, []).extend(messages)
    else:
        for name in ("latitude", "longitude"):
            if name in checked:
                out[name] = f"{checked[name]:.6f}"
        for name in ("pupils", "radius_m"):
            if name in checked:
                out[name] = int(checked[name])
    if "code" in out and (not out["code"] or len(out["code"]) > 40):
        errors["code"] = [_("A school code has 1 to 40 characters.")]
    if errors:
        raise ValidationError(errors)
    return out


def _plain(school: School) -> dict:
    return {"code": school.code, "name": school.name, "kind": school.kind, "address": school.address,
            "grid": school.grid.code, "latitude": f"{school.latitude:.6f}", "longitude": f"{school.longitude:.6f}",
            "pupils": school.pupils, "contact": school.contact,
            "opens_at": school.opens_at.strftime("%H:%M") if school.opens_at else "",
            "closes_at": school.closes_at.strftime("%H:%M") if school.closes_at else "",
            "radius_m": school.radius_m}


def current(keys: list[str]) -> dict:
    return {s.code: _plain(s) for s in School.objects.select_related("grid").filter(code__in=keys)}


def _model_values(values: dict, grids: dict[str, OrgUnit]) -> dict:
    out = {}
    for name, value in values.items():
        if name == "grid":
            out["grid"] = grids[value]
        elif name in ("latitude", "longitude"):
            out[name] = Decimal(value)
        elif name in ("opens_at", "closes_at"):
            out[name] = time.fromisoformat(value) if value else None
        else:
            out[name] = value
    return out


def apply(new: list[dict], changed: list[dict], *, actor=None) -> None:
    grids = {g.code: g for g in OrgUnit.objects.filter(level=OrgUnit.Level.GRID,
                                                       code__in={v["grid"] for v in new + changed if "grid" in v})}
    with transaction.atomic():
        School.objects.bulk_create([School(source="import", **_model_values(v, grids)) for v in new])
        held = {s.code: s for s in School.objects.filter(code__in=[v["code"] for v in changed])}
        for values in changed:
            school = held[values["code"]]
            for name, value in _model_values(values, grids).items():
                setattr(school, name, value)
            school.save()
        record(action="school_surroundings.schools_imported", actor=actor, created=len(new), updated=len(changed))


def target() -> ImportTarget:
    return ImportTarget(code=CODE, label=_l("Schools (school surroundings)"), fields=FIELDS, key="code",
                        clean=clean, current=current, apply=apply)
