"""Every change the module makes: units, checklists, inspections and what follows from them.

An inspection's failed item becomes a hazard with a case (``cases.actions.report_case``,
source "inspection", the item's category: its department and deadlines). A later
inspection of the same unit that finds the item passing marks the hazard rectified and
moves the case to closure through the event engine: a handled case is closed by the
platform on the inspector's verification (a grid worker may not close a case, and the
verification is the platform's reason to); a case not handled yet gets the verification
on its timeline and is closed when its department reports it handled (``hooks``). An item
that fails again keeps its hazard open (noted on the case's timeline), or reopens it.
The rules live in ``checklists.follow_up`` (food safety follows the same ones).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from civicgrid.platform.audit.actions import record
from civicgrid.platform.cases import actions as case_actions
from civicgrid.platform.cases.models import Case, Source
from civicgrid.platform.org.models import OrgUnit
from civicgrid.platform.registry.models import Building
from civicgrid.plugins import meter
from civicgrid.plugins.builtin.checklists import services as checklists
from civicgrid.plugins.builtin.checklists.follow_up import FollowUp

from . import defaults, selectors
from .models import CheckItem, Hazard, Inspection, ItemResult, RiskUnit, UnitKind
from .risk import recompute_risk_levels

PHOTO_FOLDER = "fire_safety/inspections"
CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")
UNIT_FIELDS = ("code", "name", "kind", "address", "grid_id", "building_id", "latitude", "longitude",
               "contact_name", "contact_phone")
KIND_SPELLINGS = {label: value for value, label in [
    ("small_shop", "小商店"), ("small_workshop", "小作坊"), ("small_lodging", "小旅馆"), ("rental_house", "群租房"),
    ("ebike_charging", "电动自行车集中充电点"), ("ebike_charging", "电动车充电点"), ("ebike_charging", "充电点")]}


# --- units --------------------------------------------------------------------------------


def _text(values, name, errors, *, limit, required=False) -> str:
    value = str(values.get(name) or "")
    if "\x00" in value:
        errors[name] = _("The text contains a NUL character.")
        return ""
    value = value.strip()
    if required and not value:
        errors[name] = _("Fill this in.")
    elif len(value) > limit:
        errors[name] = _("At most %(n)d characters.") % {"n": limit}
    return value


def _coordinate(values, name, errors, low, high) -> str | None:
    raw = str(values.get(name) or "").strip()
    if not raw:
        return None
    try:
        number = Decimal(raw)
        if not number.is_finite() or not low <= number <= high:
            raise InvalidOperation
    except InvalidOperation:
        errors[name] = _("Not a valid coordinate.")
        return None
    return str(number.quantize(Decimal("0.000001")))


def _building_by_code(code: str) -> int | None:
    return Building.objects.filter(code=code).values_list("pk", flat=True).first()


def clean_unit(values: dict, grid_id, building_id=_building_by_code) -> dict:
    """One unit's values as text (a form's, an imported row's), clean and JSON-able, or a
    ValidationError by field. ``grid_id(code)`` resolves a grid's code, ``building_id(code)``
    a building's (None: no such grid or building)."""
    errors: dict[str, str] = {}
    code = _text(values, "code", errors, limit=40, required=True)
    if code and "code" not in errors and not CODE.fullmatch(code):
        errors["code"] = _("A code is letters, digits, '.', '_' or '-' (at most 40).")
    name = _text(values, "name", errors, limit=100, required=True)
    kind_text = _text(values, "kind", errors, limit=40, required=True)
    kind = kind_text if kind_text in UnitKind.values else KIND_SPELLINGS.get(kind_text, "")
    if kind_text and not kind and "kind" not in errors:
        errors["kind"] = _("Unknown kind %(kind)s.") % {"kind": kind_text}
    address = _text(values, "address", errors, limit=200, required=True)
    grid_code = _text(values, "grid", errors, limit=40, required=True)
    grid = grid_id(grid_code) if grid_code and "grid" not in errors else None
    if grid_code and grid is None and "grid" not in errors:
        errors["grid"] = _("There is no grid with the code %(code)s.") % {"code": grid_code}
    building_code = _text(values, "building", errors, limit=40)
    building = None
    if building_code and "building" not in errors:
        building = building_id(building_code)
        if building is None:
            errors["building"] = _("There is no building with the code %(code)s.") % {"code": building_code}
    latitude = _coordinate(values, "latitude", errors, -90, 90)
    longitude = _coordinate(values, "longitude", errors, -180, 180)
    if (latitude is None) != (longitude is None) and not {"latitude", "longitude"} & errors.keys():
        errors["latitude"] = _("Give both latitude and longitude, or neither.")
    contact_name = _text(values, "contact_name", errors, limit=50)
    contact_phone = _text(values, "contact_phone", errors, limit=30)
    if contact_phone and "contact_phone" not in errors and not re.fullmatch(r"[0-9+\- ]{5,30}", contact_phone):
        errors["contact_phone"] = _("A phone number is digits, spaces, + or -.")
    if errors:
        raise ValidationError(errors)
    return {"code": code, "name": name, "kind": kind, "address": address, "grid_id": grid, "building_id": building,
            "latitude": latitude, "longitude": longitude, "contact_name": contact_name,
            "contact_phone": contact_phone}


def grid_by_code(code: str) -> int | None:
    return OrgUnit.objects.filter(code=code, level=OrgUnit.Level.GRID).values_list("pk", flat=True).first()


def unit_values(unit: RiskUnit) -> dict:
    """A held unit as ``clean_unit`` would give it (the import compares the two)."""
    return {"code": unit.code, "name": unit.name, "kind": unit.kind, "address": unit.address,
            "grid_id": unit.grid_id, "building_id": unit.building_id,
            "latitude": None if unit.latitude is None else str(unit.latitude.quantize(Decimal("0.000001"))),
            "longitude": None if unit.longitude is None else str(unit.longitude.quantize(Decimal("0.000001"))),
            "contact_name": unit.contact_name, "contact_phone": unit.contact_phone}


def save_units(*, new: list[dict], changed: list[dict], actor, source: str = "import") -> int:
    """Create ``new`` units and update ``changed`` ones (clean values, by code); one audit row."""
    with transaction.atomic():
        created = RiskUnit.objects.bulk_create([RiskUnit(source=source, **{f: row[f] for f in UNIT_FIELDS})
                                                for row in new])
        held = {u.code: u for u in RiskUnit.objects.select_for_update().filter(code__in=[r["code"] for r in changed])}
        for row in changed:
            unit = held[row["code"]]
            for name in UNIT_FIELDS:
                setattr(unit, name, row[name])
        RiskUnit.objects.bulk_update(list(held.values()), [f for f in UNIT_FIELDS if f != "code"] + ["updated_at"])
        ids = [u.pk for u in created] + [u.pk for u in held.values()]
        recompute_risk_levels(ids)
        record(action="fire_safety.units", actor=actor, created=len(created), updated=len(held), source=source)
    return len(created) + len(held)


def save_unit(*, values: dict, actor=None, staff=None, unit_id=None) -> RiskUnit:
    """One unit from a form's values (grid and building by their codes).

    With ``staff`` (the console): the acting staff must manage units (``selectors.MANAGER_ROLES``),
    the grid and the building must be in their area, ``unit_id`` (editing) a unit they may edit,
    else 404; a code another unit holds is refused; ``is_active`` (in use) is set when given.
    Without ``staff`` (the demo, the tests): created or updated by its code, as the system.
    Refused input raises ValidationError by field and nothing changes; one audit row otherwise."""
    if staff is None and unit_id is None:
        clean = clean_unit(values, grid_by_code)
        exists = RiskUnit.objects.filter(code=clean["code"]).exists()
        save_units(new=[] if exists else [clean], changed=[clean] if exists else [], actor=actor, source="console")
        return RiskUnit.objects.get(code=clean["code"])
    if staff is not None:
        if not selectors.may_manage(staff):
            raise Http404
        actor = staff.user
        units, grids, buildings = (selectors.managed_units_for(staff), selectors.managed_grids(staff),
                                   selectors.managed_buildings(staff))
    else:
        units, grids, buildings = RiskUnit.objects.all(), OrgUnit.objects.filter(level=OrgUnit.Level.GRID), Building.objects
    held = None
    if unit_id is not None:
        try:
            held = units.get(pk=unit_id)
        except (RiskUnit.DoesNotExist, ValueError, TypeError) as exc:
            raise Http404 from exc
    errors: dict[str, list[str]] = {}
    clean = None
    try:
        clean = clean_unit(values, lambda code: grids.filter(code=code).values_list("pk", flat=True).first(),
                           lambda code: buildings.filter(code=code).values_list("pk", flat=True).first())
    except ValidationError as problems:
        errors = dict(problems.message_dict)
    code = str(values.get("code") or "").strip()
    if "code" not in errors and code and _code_taken(code, held):
        errors["code"] = [_("A unit with the code %(code)s is registered already.") % {"code": code}]
    if errors:
        raise ValidationError(errors)
    active = _flag(values["is_active"]) if "is_active" in values else (held.is_active if held else True)
    try:
        with transaction.atomic():
            if held is None:
                unit = RiskUnit.objects.create(source="console", is_active=active,
                                               **{f: clean[f] for f in UNIT_FIELDS})
                changed = ["created"]
            else:
                unit = RiskUnit.objects.select_for_update().get(pk=held.pk)
                before = {f: getattr(unit, f) for f in (*UNIT_FIELDS, "is_active")}
                for name in UNIT_FIELDS:
                    setattr(unit, name, clean[name])
                unit.is_active = active
                unit.save()
                unit.refresh_from_db()
                changed = [f for f in before if getattr(unit, f) != before[f]]
            recompute_risk_levels([unit.pk])
            record(action="fire_safety.unit.create" if held is None else "fire_safety.unit.update", actor=actor,
                   target=unit, code=unit.code, changed=changed, in_use=unit.is_active)
    except IntegrityError as exc:  # the same code saved by someone else a moment ago
        if not _code_taken(code, held):
            raise
        raise ValidationError({"code": [_("A unit with the code %(code)s is registered already.") % {
            "code": code}]}) from exc
    unit.refresh_from_db()
    return unit


def _code_taken(code: str, held: RiskUnit | None) -> bool:
    others = RiskUnit.objects.filter(code=code)
    return (others.exclude(pk=held.pk) if held is not None else others).exists()


def _flag(value) -> bool:
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in ("1", "true", "on", "yes")


# --- checklists -------------------------------------------------------------------------


def seed_checklists() -> int:
    """The default checklist for each kind that has none yet (idempotent)."""
    made = 0
    for kind, lines in defaults.CHECKLISTS.items():
        if CheckItem.objects.filter(kind=kind).exists():
            continue
        CheckItem.objects.bulk_create([CheckItem(kind=kind, position=(n + 1) * 10, text=text, category_code=code)
                                       for n, (text, code) in enumerate(lines)])
        made += len(lines)
    return made


def _editor(staff) -> None:
    if staff is None or staff.role not in selectors.EDITOR_ROLES:
        raise Http404


def save_check_item(*, staff, kind: str, text: str, category_code: str, position, item_id=None) -> CheckItem:
    _editor(staff)
    errors = {}
    if kind not in UnitKind.values:
        errors["kind"] = _("Unknown kind %(kind)s.") % {"kind": kind}
    text = str(text or "")
    if "\x00" in text:
        errors["text"] = _("The text contains a NUL character.")
    text = text.strip()
    if not text and "text" not in errors:
        errors["text"] = _("Fill this in.")
    elif len(text) > 200:
        errors["text"] = _("At most %(n)d characters.") % {"n": 200}
    if not selectors.hazard_categories().filter(code=category_code).exists():
        errors["category_code"] = _("Choose one of the fire hazard categories.")
    try:
        position = int(position)
        if not 0 <= position <= 10000:
            raise ValueError
    except (TypeError, ValueError):
        errors["position"] = _("The position is a whole number from 0 to 10000.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        if item_id:
            try:
                item = CheckItem.objects.select_for_update().get(pk=item_id, is_active=True)
            except (CheckItem.DoesNotExist, ValueError, TypeError) as exc:
                raise Http404 from exc
            item.kind, item.text, item.category_code, item.position = kind, text, category_code, position
            item.save()
        else:
            item = CheckItem.objects.create(kind=kind, text=text, category_code=category_code, position=position)
        record(action="fire_safety.checklist.save", actor=staff.user, target=item, kind=kind,
               category=category_code)
    return item


def remove_check_item(*, staff, item_id) -> CheckItem:
    """Taken off the checklist (kept for the inspections that answered it)."""
    _editor(staff)
    with transaction.atomic():
        try:
            item = CheckItem.objects.select_for_update().get(pk=item_id, is_active=True)
        except (CheckItem.DoesNotExist, ValueError, TypeError) as exc:
            raise Http404 from exc
        item.is_active = False
        item.save(update_fields=["is_active"])
        record(action="fire_safety.checklist.remove", actor=staff.user, target=item)
    return item


# --- inspections ------------------------------------------------------------------------


def inspect_unit(*, staff, unit_id, data, files, client_key: str = "") -> tuple[Inspection, bool]:
    """A grid worker's inspection of a unit in their grid: ``(inspection, True)`` when stored
    now, ``(earlier, False)`` when this worker sent this key before (nothing is done again:
    one inspection, one case per failed item, metered once). Refused input raises
    ValidationError by field (nothing stored); another role or a unit out of scope, 404."""
    if staff is None or staff.role not in selectors.INSPECTOR_ROLES:
        raise Http404
    unit = selectors.unit_for(staff, unit_id)
    key = checklists.check_key(client_key, required=False)
    user = staff.user
    if key:
        earlier = Inspection.objects.filter(inspected_by=user, client_key=key).first()
        if earlier is not None:
            return earlier, False
    submission = checklists.read_submission(selectors.checklist(unit.kind), data, files)

    def create() -> Inspection:
        held = FOLLOW_UP.lock(unit)  # an inspection of this unit at the same moment waits for this one
        inspection = Inspection.objects.create(
            unit=held, grid=held.grid, client_key=key, inspected_by=user, inspected_at=timezone.now(),
            latitude=submission.latitude, longitude=submission.longitude, outcome=submission.outcome,
            note=submission.note)
        results = checklists.store_results(ItemResult, inspection=inspection, submission=submission,
                                           folder=PHOTO_FOLDER)
        cases = FOLLOW_UP.after_inspection(staff=staff, owner=held, inspection=inspection, results=results,
                                           answers=submission.answers)
        meter("inspection", idempotency_key=f"inspection:{user.pk}:{key}" if key else f"inspection:{inspection.pk}")
        recompute_risk_levels([held.pk])
        record(action="fire_safety.inspect", actor=user, target=inspection, unit=held.code,
               outcome=inspection.outcome, cases=[c.number for c in cases])
        return inspection

    with transaction.atomic():
        return checklists.record_once(Inspection, inspector=user, client_key=key, create=create)


def _report(staff, unit, inspection, result, answer) -> Case:
    photo = checklists.photo_upload(answer)
    description = _("Inspection %(number)s of %(unit)s (%(code)s) found: %(item)s.") % {
        "number": inspection.number, "unit": unit.name, "code": unit.code, "item": result.item_text}
    if result.note:
        description += "\n" + result.note
    latitude = unit.latitude if unit.latitude is not None else inspection.latitude
    longitude = unit.longitude if unit.longitude is not None else inspection.longitude
    return case_actions.report_case(
        staff=staff, category=result.category_code, title=f"{unit.name}：{result.item_text}"[:200],
        description=description, source=Source.INSPECTION,
        latitude=float(latitude) if latitude is not None else None,
        longitude=float(longitude) if longitude is not None else None, address=unit.address,
        photos=[photo] if photo else [])


FOLLOW_UP = FollowUp(finding=Hazard, owner="unit", report=_report,
                     extra=lambda result: {"category_code": result.category_code},
                     closed_comment=_l("Closed: a re-inspection had found the hazard rectified."))


def close_verified(case_id: int) -> Case | None:
    """A case whose hazard a re-inspection already found rectified, now handled: closed."""
    return FOLLOW_UP.close_verified(case_id)
