"""County admins edit the category tree, routing rules and the working calendar's local overrides.

Categories are never deleted: cases refer to them, and a closed case must still say
what it was. They are switched off instead; a group cannot be switched off while
leaves under it are still active (the admin switches the leaves off first and sees
exactly what goes). A code never changes once made: the API, Open311 and reports use it.

Existing cases keep the deadlines they were given; an edit to hours or to the calendar
applies to deadlines set from now on. Calendar overrides are read once a minute per
process (``deadlines.tenant_calendar``): this process forgets them at once, others
follow within a minute.

Every action: county admins only (anyone else gets 404 before their input is read),
one transaction, one audit row.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.platform.accounts.staff.models import StaffProfile, StaffRole
from civicgrid.platform.audit.actions import record
from civicgrid.platform.org.models import Department, OrgUnit

from . import deadlines
from .models import CalendarOverride, Category, RoutingRule, Urgency

CODE = re.compile(r"^[A-Z0-9]+(-[A-Z0-9]+)*$")
MAX_HOURS = Decimal("2000")
MAX_SORT_ORDER = 1_000_000
OVERRIDE_REACH_DAYS = 2 * 366  # further out nobody knows the holidays; a typo in the year is likelier
EDITABLE = ("name", "name_en", "description", "parent", "accept_hours", "handle_hours", "urgency",
            "department_code", "is_active", "sort_order")


def _admin_only(staff: StaffProfile | None) -> None:
    if staff is None or staff.role != StaffRole.COUNTY_ADMIN:
        raise Http404


# --- categories ---------------------------------------------------------------------


def create_category(*, staff: StaffProfile, code: str, name: str, name_en: str = "", description: str = "",
                    parent: Category | str | None = None, accept_hours=Decimal("2"), handle_hours=Decimal("40"),
                    urgency: str = Urgency.NORMAL, department_code: str = "", is_active=True,
                    sort_order=0) -> Category:
    """A new group (``parent`` None) or leaf under the group ``parent`` (a code or a Category)."""
    _admin_only(staff)
    errors: dict[str, list[str]] = {}
    code = (code or "").strip()
    if not code:
        errors["code"] = [_("Give the category a code.")]
    elif len(code) > 40 or not CODE.match(code):
        errors["code"] = [_("A code is up to 40 upper-case letters, digits and hyphens, such as DSP-NEIGHBOUR.")]
    elif Category.objects.filter(code=code).exists():
        errors["code"] = [_("There is already a category with the code %(code)s.") % {"code": code}]
    category = Category(code=code)
    values = dict(name=name, name_en=name_en, description=description, parent=parent, accept_hours=accept_hours,
                  handle_hours=handle_hours, urgency=urgency, department_code=department_code,
                  is_active=is_active, sort_order=sort_order)
    cleaned = _clean(category, values, errors)
    with transaction.atomic():
        for field, value in cleaned.items():
            setattr(category, field, value)
        category.save()
        record(action="category.create", actor=staff.user, target=category, code=code,
               values={field: _shown(value) for field, value in cleaned.items()})
    return category


def update_category(*, staff: StaffProfile, category: Category | str, **changes) -> Category:
    """Change the fields named in ``changes`` (any of EDITABLE); the others stay."""
    _admin_only(staff)
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValidationError({field: _("This field cannot be changed.") for field in sorted(unknown)})
    with transaction.atomic():
        category = _locked(category)
        errors: dict[str, list[str]] = {}
        current = {field: getattr(category, field) for field in EDITABLE}
        cleaned = _clean(category, {**current, **changes}, errors)
        changed = {field: [_shown(current[field]), _shown(value)] for field, value in cleaned.items()
                   if value != current[field]}
        for field, value in cleaned.items():
            setattr(category, field, value)
        category.save()
        record(action="category.update", actor=staff.user, target=category, code=category.code, changes=changed)
    return category


def deactivate_category(*, staff: StaffProfile, category: Category | str) -> Category:
    return update_category(staff=staff, category=category, is_active=False)


def activate_category(*, staff: StaffProfile, category: Category | str) -> Category:
    return update_category(staff=staff, category=category, is_active=True)


def _locked(category: Category | str) -> Category:
    code = category.code if isinstance(category, Category) else str(category)
    found = Category.objects.select_for_update().filter(code=code).first()
    if found is None:
        raise Http404
    return found


def _clean(category: Category, values: dict, errors: dict) -> dict:
    """Every rule a category's fields obey, checked together so the admin sees every mistake at once."""
    cleaned = {}
    for field, limit in (("name", 100), ("name_en", 100), ("description", 300)):
        text = str(values.get(field) or "").strip()
        if len(text) > limit:
            errors[field] = [_("At most %(limit)d characters.") % {"limit": limit}]
        cleaned[field] = text
    if not cleaned["name"]:
        errors["name"] = [_("Give the category a name.")]

    parent = values.get("parent")
    if parent not in (None, ""):
        parent_code = parent.code if isinstance(parent, Category) else str(parent).strip()
        parent = Category.objects.filter(code=parent_code).first()
        if parent is None:
            errors["parent"] = [_("There is no category with the code %(code)s.") % {"code": parent_code}]
        elif parent.parent_id is not None or (category.pk and parent.pk == category.pk):
            errors["parent"] = [_("A category can only be filed under a group (a category without a group).")]
        elif category.pk and category.children.exists():
            errors["parent"] = [_("This group has categories under it, so it cannot go under another group.")]
    cleaned["parent"] = parent or None

    accept = _hours(values.get("accept_hours"), "accept_hours", errors)
    handle = _hours(values.get("handle_hours"), "handle_hours", errors)
    if accept is not None and handle is not None and accept > handle:
        errors["accept_hours"] = [_("Accepting cannot take longer than handling.")]
    cleaned["accept_hours"], cleaned["handle_hours"] = accept, handle

    urgency = str(values.get("urgency") or "").strip()
    if urgency not in Urgency.values:
        errors["urgency"] = [_("Choose normal, urgent or critical.")]
    cleaned["urgency"] = urgency

    department_code = str(values.get("department_code") or "").strip()
    if department_code and cleaned["parent"] is None and "parent" not in errors:
        errors["department_code"] = [_("A group has no department: its categories each name their own.")]
    elif department_code and not Department.objects.filter(code=department_code, is_active=True).exists():
        errors["department_code"] = [_("There is no active department with the code %(code)s.")
                                     % {"code": department_code}]
    cleaned["department_code"] = department_code

    active = _flag(values.get("is_active"), "is_active", errors)
    if active is False and category.pk and category.children.filter(is_active=True).exists():
        errors["is_active"] = [_("Switch off the categories in this group first: cases are still filed under "
                                 "them.")]
    elif active and cleaned["parent"] is not None and not cleaned["parent"].is_active:
        errors["is_active"] = [_("Switch its group on first.")]
    cleaned["is_active"] = active

    try:
        sort_order = int(str(values.get("sort_order") if values.get("sort_order") not in (None, "") else 0))
    except ValueError:
        sort_order = -1
    if not 0 <= sort_order <= MAX_SORT_ORDER:
        errors["sort_order"] = [_("The order is a whole number from 0 to 1000000.")]
    cleaned["sort_order"] = sort_order

    if errors:
        raise ValidationError(errors)
    return cleaned


def _hours(raw, field: str, errors: dict) -> Decimal | None:
    try:
        value = Decimal(str(raw).strip())
    except (InvalidOperation, ValueError, TypeError):
        value = None
    if value is None or not value.is_finite() or not (0 < value <= MAX_HOURS) \
            or value != value.quantize(Decimal("0.01")):
        errors[field] = [_("Working hours are a number above 0 and at most 2000, with at most two decimals.")]
        return None
    return value.quantize(Decimal("0.01"))


def _flag(raw, field: str, errors: dict) -> bool | None:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("true", "1", "on", "yes"):
        return True
    if text in ("false", "0", "off", "no", ""):
        return False
    errors[field] = [_("Answer yes or no.")]
    return None


def _shown(value) -> str | bool | int:
    if isinstance(value, Category):
        return value.code
    if value is None:
        return ""
    return value if isinstance(value, bool | int) else str(value)


# --- routing rules ------------------------------------------------------------------


def set_routing_rule(*, staff: StaffProfile, category: Category | str, area_code: str | None,
                     department_code: str) -> RoutingRule:
    """The department for ``category`` in ``area_code`` (a township, community or grid; None: the whole
    county), replacing the rule that area had. The deepest area containing a case's grid wins."""
    _admin_only(staff)
    errors = {}
    code = category.code if isinstance(category, Category) else str(category or "")
    category = Category.objects.filter(code=code).first()
    if category is None:
        raise Http404
    if category.parent_id is None:
        errors["category"] = [_("Routing rules belong to categories cases are filed under, not to groups.")]
    area = None
    area_code = (area_code or "").strip()
    if area_code:
        area = OrgUnit.objects.filter(code=area_code).first()
        if area is None:
            errors["area"] = [_("There is no township, community or grid with the code %(code)s.")
                              % {"code": area_code}]
    department_code = (department_code or "").strip()
    department = Department.objects.filter(code=department_code, is_active=True).first() if department_code else None
    if department is None:
        errors["department"] = [_("There is no active department with the code %(code)s.")
                                % {"code": department_code}]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        rule = RoutingRule.objects.select_for_update().filter(category=category, area=area).first()
        before = rule.department.code if rule else ""
        if rule is None:
            rule = RoutingRule(category=category, area=area)
        rule.department = department
        rule.save()
        record(action="routing_rule.set", actor=staff.user, target=rule, category=category.code,
               area=area.code if area else "", department=[before, department.code])
    return rule


def delete_routing_rule(*, staff: StaffProfile, rule_id) -> None:
    _admin_only(staff)
    with transaction.atomic():
        try:
            rule = RoutingRule.objects.select_for_update(of=("self",)).select_related("category", "area", "department").get(
                pk=rule_id)
        except (RoutingRule.DoesNotExist, ValueError, TypeError) as exc:
            raise Http404 from exc
        record(action="routing_rule.delete", actor=staff.user, target=rule, category=rule.category.code,
               area=rule.area.code if rule.area else "", department=rule.department.code)
        rule.delete()


# --- the working calendar's local overrides -----------------------------------------


def set_calendar_override(*, staff: StaffProfile, day: date | str, is_working, note: str = "") -> CalendarOverride:
    """Make ``day`` a working day or a rest day here, whatever the national calendar says."""
    _admin_only(staff)
    errors = {}
    day = _day(day, errors)
    working = _flag(is_working, "is_working", errors) if is_working not in (None, "") else None
    if working is None and "is_working" not in errors:
        errors["is_working"] = [_("Say whether the day is a working day or a rest day.")]
    note = str(note or "").strip()
    if len(note) > 200:
        errors["note"] = [_("At most %(limit)d characters.") % {"limit": 200}]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        previous = CalendarOverride.objects.filter(day=day).first()
        override, _created = CalendarOverride.objects.update_or_create(
            day=day, defaults={"is_working": working, "note": note})
        record(action="calendar_override.set", actor=staff.user, target=override, day=day.isoformat(),
               is_working=working, note=note, before=None if previous is None else previous.is_working)
    deadlines.forget_overrides()
    return override


def delete_calendar_override(*, staff: StaffProfile, day: date | str) -> None:
    _admin_only(staff)
    errors: dict = {}
    day = _day(day, errors, reach=False)
    if errors:
        raise Http404
    with transaction.atomic():
        override = CalendarOverride.objects.select_for_update().filter(day=day).first()
        if override is None:
            raise Http404
        record(action="calendar_override.delete", actor=staff.user, target=override, day=day.isoformat(),
               is_working=override.is_working)
        override.delete()
    deadlines.forget_overrides()


def _day(raw, errors: dict, *, reach: bool = True) -> date | None:
    if isinstance(raw, date):
        day = raw
    else:
        try:
            day = date.fromisoformat(str(raw or "").strip())
        except ValueError:
            errors["day"] = [_("Give the day as YYYY-MM-DD.")]
            return None
    if reach and abs((day - timezone.localdate()).days) > OVERRIDE_REACH_DAYS:
        errors["day"] = [_("Choose a day within two years of today.")]
    return day
