"""Every change the food-safety module makes, one function per operation.

Each takes the acting staff member explicitly, checks role and scope (what the actor may
not see or do is not found: ``Http404``), validates (``ValidationError`` by field), owns
its transaction, writes audit, and makes cases only through ``report_case``.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from civicgrid.platform.audit.actions import record
from civicgrid.platform.cases.actions import report_case, title_from
from civicgrid.platform.cases.models import Case, Source
from civicgrid.platform.org.models import OrgUnit
from civicgrid.platform.registry.identity import normalise_phone
from civicgrid.plugins import meter
from civicgrid.plugins.builtin.checklists import services
from civicgrid.plugins.builtin.checklists.follow_up import FollowUp

from . import categories, selectors
from .checklist import items_for
from .models import (
    BusinessChange,
    BusinessKind,
    Finding,
    FoodBusiness,
    FoodCase,
    Inspection,
    ItemResult,
    Licence,
)

BUSINESS_FIELDS = ("name", "kind", "address", "grid", "latitude", "longitude", "operator_name", "operator_phone",
                   "credit_code")
LICENCE_FIELDS = ("licence_number", "licence_issued_on", "licence_expires_on")
# Where a complaint taken by staff may come from.
COMPLAINT_SOURCES = (Source.HOTLINE_12345, Source.RESIDENT_SITE, Source.DEPARTMENT, Source.GRID_WORKER, Source.SMS,
                     Source.WECHAT)


def _grid(value, errors: dict, staff=None, lookup=None) -> OrgUnit | None:
    if isinstance(value, OrgUnit):
        grid = value
    elif lookup is not None:
        grid_id = lookup(str(value or ""))
        grid = OrgUnit(pk=grid_id, level=OrgUnit.Level.GRID, path="") if grid_id else None
    else:
        grid = OrgUnit.objects.filter(code=str(value or "").strip(), level=OrgUnit.Level.GRID).first()
    if grid is None or grid.level != OrgUnit.Level.GRID:
        errors["grid"] = [_("Choose a grid.")]
        return None
    scope = getattr(staff, "scope_org_unit", None)
    if scope is not None and not grid.path.startswith(scope.path):
        errors["grid"] = [_("Choose a grid in your area.")]
        return None
    return grid


def _coordinate(value, low, high) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value)).quantize(Decimal("0.000001"))
    except (InvalidOperation, ValueError) as exc:
        raise ValueError from exc
    if not number.is_finite() or not low <= number <= high:
        raise ValueError
    return number


def clean_business(values: dict, *, staff=None, instance: FoodBusiness | None = None, grid_lookup=None,
                   check_taken: bool = True) -> dict:
    """The business's and its licence's values checked; a ValidationError names every problem by field.
    ``grid_lookup(code) -> id`` resolves grids without a query per row (imports); an import
    does not ask whether the licence number is taken: the number is what it matches on."""
    errors: dict[str, list[str]] = {}
    clean: dict = {}
    for name in ("name", "address", "operator_name", "credit_code", "licence_number"):
        text = str(values.get(name) or "").strip()
        if "\x00" in text:
            errors[name] = [_("The text contains a NUL character.")]
        clean[name] = text
    if not clean["name"]:
        errors["name"] = [_("Give the business's name.")]
    if not clean["address"]:
        errors["address"] = [_("Give the business's address.")]
    clean["credit_code"] = clean["credit_code"].upper()
    kind = str(values.get("kind") or "").strip()
    if kind not in BusinessKind.values:
        errors["kind"] = [_("Choose the kind of business.")]
    clean["kind"] = kind
    clean["grid"] = _grid(values.get("grid"), errors, staff, grid_lookup)
    try:
        clean["latitude"] = _coordinate(values.get("latitude"), -90, 90)
        clean["longitude"] = _coordinate(values.get("longitude"), -180, 180)
        if (clean["latitude"] is None) != (clean["longitude"] is None):
            errors["location"] = [_("Give both latitude and longitude, or neither.")]
    except ValueError:
        errors["location"] = [_("The location is not a valid latitude and longitude.")]
        clean["latitude"] = clean["longitude"] = None
    phone = str(values.get("operator_phone") or "").strip()
    if phone:
        try:
            phone = normalise_phone(phone)
        except ValidationError as exc:
            errors["operator_phone"] = exc.messages
    clean["operator_phone"] = phone
    issued, expires = values.get("licence_issued_on"), values.get("licence_expires_on")
    for name, value in (("licence_issued_on", issued), ("licence_expires_on", expires)):
        if isinstance(value, str) and value.strip():
            try:
                value = date.fromisoformat(value.strip())
            except ValueError:
                errors[name] = [_("Give a date as YYYY-MM-DD.")]
                value = None
        clean[name] = value or None
    has_licence = any((clean["licence_number"], clean["licence_issued_on"], clean["licence_expires_on"]))
    if has_licence:
        for name, message in (("licence_number", _("Give the licence number.")),
                              ("licence_issued_on", _("Give the date the licence was issued.")),
                              ("licence_expires_on", _("Give the date the licence expires."))):
            if not clean[name] and name not in errors:
                errors[name] = [message]
        if (clean["licence_issued_on"] and clean["licence_expires_on"]
                and clean["licence_expires_on"] < clean["licence_issued_on"]):
            errors["licence_expires_on"] = [_("A licence cannot expire before it was issued.")]
        if clean["licence_number"] and check_taken:
            taken = Licence.objects.filter(number=clean["licence_number"])
            if instance is not None:
                taken = taken.exclude(business=instance)
            if taken.exists():
                errors["licence_number"] = [_("Another business holds this licence number.")]
    # The model's own validators (lengths, the credit code's and licence number's shapes).
    business = FoodBusiness(**{k: clean[k] for k in BUSINESS_FIELDS if k != "grid"})
    try:
        business.full_clean(exclude=["grid", "source"])
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            errors.setdefault(name, messages)
    if clean["licence_number"]:
        try:
            Licence(number=clean["licence_number"], issued_on=clean["licence_issued_on"] or date.today(),
                    expires_on=clean["licence_expires_on"] or date.today()).clean_fields(exclude=["business"])
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                errors.setdefault("licence_number" if name == "number" else name, messages)
    if errors:
        raise ValidationError(errors)
    clean["has_licence"] = has_licence
    return clean


def _save_licence(business: FoodBusiness, clean: dict) -> list[str]:
    """Create or update the business's licence; the names of what changed."""
    if not clean["has_licence"]:
        return []
    values = {"number": clean["licence_number"], "issued_on": clean["licence_issued_on"],
              "expires_on": clean["licence_expires_on"]}
    licence = Licence.objects.filter(business=business).first()
    if licence is None:
        Licence.objects.create(business=business, **values)
        return list(LICENCE_FIELDS)
    changed = [f"licence_{name}" if name != "number" else "licence_number"
               for name, value in values.items() if getattr(licence, name) != value]
    if changed:
        for name, value in values.items():
            setattr(licence, name, value)
        licence.save()
    return changed


def register_business(*, staff, source: str = "console", **values) -> FoodBusiness:
    """A new business, with its licence when one is given."""
    if not selectors.may_edit(staff):
        raise Http404
    clean = clean_business(values, staff=staff)
    try:
        with transaction.atomic():
            business = FoodBusiness.objects.create(source=source, **{k: clean[k] for k in BUSINESS_FIELDS})
            _save_licence(business, clean)
            BusinessChange.objects.create(business=business, action="create", actor=staff.user)
            record(action="food_safety.business.create", actor=staff.user, target=business, grid=business.grid.code,
                   kind=business.kind)
    except IntegrityError as exc:  # the same licence number registered at the same moment
        raise ValidationError({"licence_number": [_("Another business holds this licence number.")]}) from exc
    return business


def update_business(*, staff, business_id, **values) -> FoodBusiness:
    """Edit a business and its licence (a renewal is an edit of the licence's dates)."""
    if not selectors.may_edit(staff):
        raise Http404
    try:
        business = selectors.businesses_for(staff).get(pk=business_id)
    except (FoodBusiness.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
    clean = clean_business(values, staff=staff, instance=business)
    try:
        with transaction.atomic():
            business = FoodBusiness.objects.select_for_update().get(pk=business.pk)
            changed = [name for name in BUSINESS_FIELDS if getattr(business, name) != clean[name]]
            for name in changed:
                setattr(business, name, clean[name])
            if changed:
                business.save()
            changed += _save_licence(business, clean)
            if changed:
                BusinessChange.objects.create(business=business, action="update", fields=changed, actor=staff.user)
                record(action="food_safety.business.update", actor=staff.user, target=business, fields=changed)
    except IntegrityError as exc:
        raise ValidationError({"licence_number": [_("Another business holds this licence number.")]}) from exc
    return business


def file_complaint(*, staff, business_id, description: str, source: str, category: str = categories.COMPLAINT,
                   reporter_name: str = "", reporter_phone: str = "", client_key: str = "", photos=()):
    """A complaint about a business (taken from a resident or the hotline) becomes a case
    for market supervision, linked to the business. Returns the case."""
    if not selectors.may_complain(staff):
        raise Http404
    try:
        business = selectors.businesses_for(staff).get(pk=business_id)
    except (FoodBusiness.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
    errors = {}
    description = (description or "").strip()
    if not description:
        errors["description"] = [_("Say what the complaint is about.")]
    elif "\x00" in description:
        errors["description"] = [_("The text contains a NUL character.")]
    if source not in COMPLAINT_SOURCES:
        errors["source"] = [_("Say where the complaint came from.")]
    if category not in categories.LEAVES:
        errors["category"] = [_("Choose a food-safety category.")]
    if errors:
        raise ValidationError(errors)
    location = {"latitude": float(business.latitude), "longitude": float(business.longitude)} \
        if business.latitude is not None else {}
    with transaction.atomic():
        case = report_case(
            staff=staff, category=category, title=f"{business.name}：{title_from(description, business.name, 40)}",
            description=description, source=source, address=business.address, reporter_name=reporter_name,
            reporter_phone=reporter_phone, client_key=client_key, photos=photos, **location)
        link, created = FoodCase.objects.get_or_create(case=case, defaults={
            "business": business, "origin": FoodCase.Origin.COMPLAINT})
        if created:
            record(action="food_safety.complaint", actor=staff.user, target=business, case=case.number,
                   category=category, source=source)
    return case


# --- inspections --------------------------------------------------------------------------


def inspect_business(*, staff, business_id, data, files, client_key: str = ""):
    """A grid worker's inspection of a business in their grid, from a submitted checklist
    (``checklists.services.read_submission``: every item answered, a photo per failed item,
    the position). What follows is ``checklists.follow_up``'s rules: a failed item becomes a
    finding with a case for market supervision (with its photo), or is noted "still failing"
    on its open finding's case, or reopens a case closed lately; a passed item rectifies its
    open finding and closes the handled case (the re-inspection closes the loop). Stored once
    per inspector and device key, and metered once: returns ``(inspection, created)``."""
    if not selectors.may_inspect(staff):
        raise Http404
    try:
        business = selectors.businesses_for(staff).select_related("grid").get(pk=business_id)
    except (FoodBusiness.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
    key = services.check_key(client_key, required=False)
    if key:
        earlier = Inspection.objects.filter(inspected_by=staff.user, client_key=key).first()
        if earlier is not None:  # sent again after a lost answer: nothing is read or stored twice
            return earlier, False
    submission = services.read_submission(items_for(business), data, files)

    def create():
        held = FOLLOW_UP.lock(business)  # an inspection of this business at the same moment waits for this one
        inspection = Inspection.objects.create(
            client_key=key, inspected_by=staff.user, inspected_at=timezone.now(), latitude=submission.latitude,
            longitude=submission.longitude, outcome=submission.outcome, note=submission.note, business=held,
            grid_id=held.grid_id)
        results = services.store_results(ItemResult, inspection=inspection, submission=submission,
                                         folder="food_safety/inspections")
        cases = FOLLOW_UP.after_inspection(staff=staff, owner=held, inspection=inspection, results=results,
                                           answers=submission.answers)
        meter("inspection", idempotency_key=f"inspection:{inspection.pk}", plugin="food_safety")
        record(action="food_safety.inspection", actor=staff.user, target=inspection, business=held.pk,
               outcome=inspection.outcome, cases=[case.number for case in cases])
        return inspection

    with transaction.atomic():
        return services.record_once(Inspection, inspector=staff.user, client_key=key, create=create)


def _report(staff, business, inspection, result, answer) -> Case:
    """A failed item's case for market supervision, with its photo, linked to the business."""
    submission_note = inspection.note
    location = ({"latitude": float(inspection.latitude), "longitude": float(inspection.longitude)}
                if inspection.latitude is not None else
                {"latitude": float(business.latitude), "longitude": float(business.longitude)}
                if business.latitude is not None else {})
    photo = services.photo_upload(answer)
    case = report_case(
        staff=staff, category=result.category_code,
        title=f"{business.name}：{title_from(result.note or result.item_text, result.item_text, 40)}",
        description="\n".join(filter(None, [result.item_text, result.note, submission_note])),
        source=Source.INSPECTION, address=business.address, photos=[photo] if photo else [], **location)
    FoodCase.objects.create(case=case, business=business, origin=FoodCase.Origin.INSPECTION)
    return case


FOLLOW_UP = FollowUp(finding=Finding, owner="business", report=_report,
                     closed_comment=_l("Closed: a re-inspection had found the problem rectified."))


def close_verified(case_id: int) -> Case | None:
    """Close a handled case once a re-inspection found every problem it was about rectified: the
    platform closes it on the inspector's verification (a grid worker may not close a case). A
    case not handled yet waits: the hook closes it when its department reports it handled."""
    return FOLLOW_UP.close_verified(case_id)
