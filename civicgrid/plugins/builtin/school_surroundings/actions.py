"""Every change this module makes: schools (and their zone's radius), rota slots, patrol
check-ins, and a case reported inside a zone. Each takes the acting staff explicitly, owns
its transaction and writes audit; a patrol is metered in the same transaction."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.platform.accounts.staff.models import StaffProfile
from civicgrid.platform.audit.actions import record
from civicgrid.platform.cases import actions as case_actions
from civicgrid.platform.cases.models import Case
from civicgrid.platform.org.models import OrgUnit
from civicgrid.plugins import meter

from . import selectors
from .geometry import distance_m
from .models import (
    MAX_RADIUS_M,
    MIN_RADIUS_M,
    PatrolCheckIn,
    PatrolSlot,
    School,
    SchoolKind,
    ZoneCase,
)

DEVICE_KEY = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
# A check-in kept on a phone without network is sent later with the time it was made: it
# is judged at that time if it is no older than this (and not in the future).
OFFLINE_KEPT_FOR = timedelta(hours=24)
CLOCK_SKEW = timedelta(minutes=5)
SCHOOL_FIELDS = ("code", "name", "kind", "address", "grid", "latitude", "longitude", "pupils", "contact",
                 "opens_at", "closes_at", "radius_m")


def _no_nul(values: dict) -> None:
    bad = {name: _("Remove the invisible control characters (NUL) from this field.")
           for name, value in values.items() if isinstance(value, str) and "\x00" in value}
    if bad:
        raise ValidationError(bad)


def _editor(staff: StaffProfile, roles) -> None:
    if staff is not None and staff.role not in roles:
        raise Http404


# --- schools ---------------------------------------------------------------------------------


def clean_school(values: dict, *, current: School | None = None) -> dict:
    """Checked school fields (a dict by field name); raises ValidationError by field."""
    _no_nul(values)
    errors: dict[str, str] = {}
    clean = dict(values)
    for name in ("code", "name", "address", "contact"):
        if name in clean:
            clean[name] = (clean[name] or "").strip()
    for name, limit in (("code", 40), ("name", 120), ("address", 200), ("contact", 100)):
        if name in clean and len(clean[name]) > limit:
            errors[name] = _("At most %(n)d characters.") % {"n": limit}
    for name in ("code", "name", "address"):
        if name in clean and not clean[name]:
            errors[name] = _("Fill this in.")
    if "code" in clean and clean["code"] and School.objects.filter(code=clean["code"]).exclude(
            pk=getattr(current, "pk", None)).exists():
        errors["code"] = _("A school with the code %(code)s already exists.") % {"code": clean["code"]}
    if "kind" in clean and clean["kind"] not in SchoolKind.values:
        errors["kind"] = _("Choose one of the kinds of school.")
    if "grid" in clean and (not isinstance(clean["grid"], OrgUnit) or clean["grid"].level != OrgUnit.Level.GRID):
        errors["grid"] = _("Choose a grid.")
    for name, low, high in (("latitude", -90, 90), ("longitude", -180, 180)):
        if name in clean:
            try:
                number = Decimal(str(clean[name])).quantize(Decimal("0.000001"))
            except (InvalidOperation, ValueError, TypeError):
                errors[name] = _("Give the position as a number of degrees.")
                continue
            if not (low <= number <= high) or not number.is_finite():
                errors[name] = _("The position is not a valid latitude and longitude.")
            clean[name] = number
    if "pupils" in clean:
        try:
            clean["pupils"] = int(clean["pupils"] or 0)
            if not 0 <= clean["pupils"] <= 100_000:
                raise ValueError
        except (TypeError, ValueError):
            errors["pupils"] = _("Give the number of pupils as a whole number.")
    if "radius_m" in clean:
        try:
            clean["radius_m"] = int(clean["radius_m"])
            if not MIN_RADIUS_M <= clean["radius_m"] <= MAX_RADIUS_M:
                raise ValueError
        except (TypeError, ValueError):
            errors["radius_m"] = _("The zone's radius is a whole number of metres from %(low)d to %(high)d.") % {
                "low": MIN_RADIUS_M, "high": MAX_RADIUS_M}
    opens, closes = clean.get("opens_at", getattr(current, "opens_at", None)), clean.get(
        "closes_at", getattr(current, "closes_at", None))
    if opens and closes and closes <= opens:
        errors["closes_at"] = _("The school closes after it opens.")
    if errors:
        raise ValidationError(errors)
    return clean


def create_school(*, staff: StaffProfile | None, source: str = "console", **values) -> School:
    _editor(staff, selectors.SCHOOL_EDIT_ROLES)
    missing = [n for n in ("code", "name", "kind", "address", "grid", "latitude", "longitude") if n not in values]
    if missing:
        raise ValidationError({n: _("Fill this in.") for n in missing})
    clean = clean_school({k: v for k, v in values.items() if k in SCHOOL_FIELDS})
    with transaction.atomic():
        school = School.objects.create(source=source, **clean)
        record(action="school_surroundings.school_create", actor=getattr(staff, "user", None), target=school,
               code=school.code, radius_m=school.radius_m, source=source)
    return school


def update_school(*, staff: StaffProfile | None, school: School, changes: dict) -> School:
    _editor(staff, selectors.SCHOOL_EDIT_ROLES)
    clean = clean_school({k: v for k, v in changes.items() if k in SCHOOL_FIELDS}, current=school)
    with transaction.atomic():
        school = School.objects.select_for_update().get(pk=school.pk)
        changed = {}
        for name, value in clean.items():
            if getattr(school, name) != value:
                changed[name] = str(getattr(value, "code", value))
                setattr(school, name, value)
        if changed:
            school.save()
            record(action="school_surroundings.school_update", actor=getattr(staff, "user", None), target=school,
                   changes=changed)
    return school


# --- the rota ----------------------------------------------------------------------------------


def _clean_slot(school: School, weekdays, starts_at, ends_at, patrollers) -> tuple[str, time, time, list]:
    errors = {}
    days = "".join(sorted({str(d) for d in (weekdays or []) if str(d) in "1234567" and str(d)}))
    if not days:
        errors["weekdays"] = _("Choose at least one weekday.")
    if not isinstance(starts_at, time) or not isinstance(ends_at, time):
        errors["starts_at"] = _("Give the slot's times as HH:MM.")
    elif ends_at <= starts_at:
        errors["ends_at"] = _("The slot ends after it starts.")
    allowed = {p.pk: p for p in selectors.patroller_choices(None, school)}
    chosen = []
    for item in patrollers or []:
        pk = getattr(item, "pk", item)
        try:
            chosen.append(allowed[int(pk)])
        except (KeyError, ValueError, TypeError):
            errors["patrollers"] = _("Choose grid workers or township staff of the school's township.")
    if not chosen and "patrollers" not in errors:
        errors["patrollers"] = _("Put at least one patroller on the slot.")
    if errors:
        raise ValidationError(errors)
    return days, starts_at, ends_at, chosen


def add_slot(*, staff: StaffProfile, school: School, weekdays, starts_at: time, ends_at: time,
             patrollers) -> PatrolSlot:
    _editor(staff, selectors.ROTA_EDIT_ROLES)
    school = selectors.school_for(staff, school.pk)
    days, starts_at, ends_at, chosen = _clean_slot(school, weekdays, starts_at, ends_at, patrollers)
    with transaction.atomic():
        slot = PatrolSlot.objects.create(school=school, weekdays=days, starts_at=starts_at, ends_at=ends_at)
        slot.patrollers.set(chosen)
        record(action="school_surroundings.slot_add", actor=staff.user, target=slot, school=school.code,
               weekdays=days, starts_at=f"{starts_at:%H:%M}", ends_at=f"{ends_at:%H:%M}",
               patrollers=[p.pk for p in chosen])
    return slot


def update_slot(*, staff: StaffProfile, slot: PatrolSlot, weekdays, starts_at: time, ends_at: time,
                patrollers) -> PatrolSlot:
    _editor(staff, selectors.ROTA_EDIT_ROLES)
    school = selectors.school_for(staff, slot.school_id)
    days, starts_at, ends_at, chosen = _clean_slot(school, weekdays, starts_at, ends_at, patrollers)
    with transaction.atomic():
        slot = PatrolSlot.objects.select_for_update().get(pk=slot.pk, school=school, is_active=True)
        slot.weekdays, slot.starts_at, slot.ends_at = days, starts_at, ends_at
        slot.save()
        slot.patrollers.set(chosen)
        record(action="school_surroundings.slot_update", actor=staff.user, target=slot, school=school.code,
               weekdays=days, starts_at=f"{starts_at:%H:%M}", ends_at=f"{ends_at:%H:%M}",
               patrollers=[p.pk for p in chosen])
    return slot


def remove_slot(*, staff: StaffProfile, slot: PatrolSlot) -> PatrolSlot:
    """Off the rota from now on; its check-ins stay."""
    _editor(staff, selectors.ROTA_EDIT_ROLES)
    school = selectors.school_for(staff, slot.school_id)
    with transaction.atomic():
        updated = PatrolSlot.objects.filter(pk=slot.pk, school=school, is_active=True).update(is_active=False)
        if updated:
            record(action="school_surroundings.slot_remove", actor=staff.user, target=slot, school=school.code)
    return slot


# --- check-ins -----------------------------------------------------------------------------------


class CheckInRefused(Exception):
    """A check-in outside the zone or the slot: ``reason`` says which, in the user's language."""

    def __init__(self, reason: str, code: str):
        super().__init__(reason)
        self.reason, self.code = reason, code


def check_in(*, staff: StaffProfile, slot_id, latitude, longitude, device_key: str, checked_at: datetime | None = None,
             note: str = "", now: datetime | None = None) -> tuple[PatrolCheckIn, bool]:
    """The assigned patroller is at the school during the slot. Returns (check-in, created).
    The same ``device_key`` sent again (an offline queue, a double tap) answers with the first
    check-in; a second check-in by the same patroller for the same slot and day is that one too.
    The patrol (slot × day) is metered once, whoever checks in."""
    slot = selectors.slot_for_patroller(staff, slot_id)  # 404 for anyone not on it
    device_key = (device_key or "").strip()
    _no_nul({"note": note, "device_key": device_key})
    if not DEVICE_KEY.fullmatch(device_key):
        raise ValidationError({"device_key": _("The check-in carries no valid key from the phone.")})
    earlier = PatrolCheckIn.objects.filter(patroller=staff, device_key=device_key).first()
    if earlier is not None:
        return earlier, False
    try:
        lat, lng = float(latitude), float(longitude)
        if not (-90 <= lat <= 90 and -180 <= lng <= 180):
            raise ValueError
    except (TypeError, ValueError) as exc:
        raise ValidationError({"location": _("No position from the phone: allow location and try again.")}) from exc
    now = now or timezone.now()
    at = checked_at or now
    if at > now + CLOCK_SKEW or at < now - OFFLINE_KEPT_FOR:
        raise ValidationError({"checked_at": _("The check-in's time is not plausible.")})
    local = timezone.localtime(at)
    day = local.date()
    if not slot.runs_on(day):
        raise CheckInRefused(_("%(school)s has no patrol in this slot on %(day)s.") % {
            "school": slot.school.name, "day": day.isoformat()}, "not_today")
    if not (slot.starts_at <= local.time().replace(tzinfo=None) <= slot.ends_at):
        raise CheckInRefused(_("The patrol slot is %(start)s–%(end)s; it is %(now)s. Check in during the slot.") % {
            "start": f"{slot.starts_at:%H:%M}", "end": f"{slot.ends_at:%H:%M}", "now": f"{local:%H:%M}"},
            "outside_slot")
    school = slot.school
    metres = distance_m(float(school.latitude), float(school.longitude), lat, lng)
    if metres > school.radius_m:
        raise CheckInRefused(_("You are %(distance)d m from %(school)s; check in within %(radius)d m of the school.")
                             % {"distance": round(metres), "school": school.name, "radius": school.radius_m},
                             "outside_zone")
    note = (note or "").strip()[:300]
    try:
        with transaction.atomic():
            item, created = PatrolCheckIn.objects.get_or_create(
                slot=slot, day=day, patroller=staff,
                defaults={"checked_at": at, "latitude": Decimal(f"{lat:.6f}"), "longitude": Decimal(f"{lng:.6f}"),
                          "distance_m": round(metres), "note": note, "device_key": device_key})
            if created:
                meter("patrol", idempotency_key=f"patrol:{slot.pk}:{day.isoformat()}")
                record(action="school_surroundings.check_in", actor=staff.user, target=item, school=school.code,
                       slot=slot.pk, day=day.isoformat(), distance_m=round(metres))
    except IntegrityError:  # the same key sent twice at once: the one that won answers
        item = PatrolCheckIn.objects.filter(patroller=staff, device_key=device_key).first()
        if item is None:
            raise
        created = False
    return item, created


# --- cases inside a zone ----------------------------------------------------------------------------


def note_case_in_zone(*, case_id: int) -> list[ZoneCase]:
    """A newly reported case: linked to every school whose zone holds it, and raised one
    urgency level once (for the nearest school). Safe to run again for the same case."""
    case = Case.objects.filter(pk=case_id).values("pk", "latitude", "longitude").first()
    if case is None or case["latitude"] is None:
        return []
    around = selectors.schools_around(case["latitude"], case["longitude"])
    if not around:
        return []
    with transaction.atomic():
        already = ZoneCase.objects.select_for_update().filter(case_id=case_id)
        raised_before = any(z.raised_to for z in already)
        known = {z.school_id for z in already}
        made = []
        for school, metres in around:
            if school.pk not in known:
                made.append(ZoneCase.objects.create(school=school, case_id=case_id, distance_m=metres))
        if not raised_before and made:
            nearest, metres = around[0]
            before = Case.objects.values_list("urgency", flat=True).get(pk=case_id)
            after = case_actions.raise_urgency(
                case_id=case_id, acting_user=None,
                reason=_("Within %(distance)d m of %(school)s (its zone is %(radius)d m).") % {
                    "distance": metres, "school": nearest.name, "radius": nearest.radius_m})
            if after.urgency != before:
                ZoneCase.objects.filter(case_id=case_id, school=nearest).update(raised_from=before,
                                                                                raised_to=after.urgency)
    return made


def today(now: datetime | None = None) -> date:
    return timezone.localdate(now or timezone.now())
