"""Registry writes, unmasking and sensitive reads. Every entry point calls these."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.platform.accounts.staff.models import StaffProfile
from civicgrid.platform.audit.actions import record
from civicgrid.platform.org.models import OrgUnit
from civicgrid.platform.org.selectors import grids_for

from . import protection
from .identity import parse_id_number, parse_uscc
from .models import (
    Building,
    CareKind,
    CareRecord,
    House,
    Household,
    HouseholdVisit,
    Organisation,
    Person,
    Place,
    Thing,
)
from .selectors import access, access_care_record, can_unmask, can_write, care_kinds_for

MIN_PURPOSE_LENGTH = 4
# A phone's clock may run a little ahead of the server's.
VISIT_CLOCK_SKEW = timedelta(minutes=5)


def _writable_grid(staff: StaffProfile, grid: OrgUnit) -> OrgUnit:
    if not can_write(staff) or not grids_for(staff).filter(pk=grid.pk).exists():
        raise Http404
    return grid


def create_person(*, staff: StaffProfile, name: str, id_number: str, grid: OrgUnit, phone: str = "",
                  residence: str = Person.Residence.REGISTERED, registered_address: str = "",
                  actual_address: str = "", household: Household | None = None, source: str = "grid") -> Person:
    _writable_grid(staff, grid)
    person = Person(name=name.strip(), grid=grid, residence=residence, registered_address=registered_address,
                    actual_address=actual_address, household=household, source=source)
    errors = {}
    for field, setter, value in (("id_number", person.set_id_number, id_number), ("phone", person.set_phone, phone)):
        try:
            setter(value)
        except ValidationError as exc:
            errors[field] = exc.messages
    if not person.name:
        errors["name"] = [_("Enter the person's name.")]
    if not errors and Person.objects.filter(id_number_index=person.id_number_index).exists():
        errors["id_number"] = [_("A person with this ID number is already registered.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        person.save()
        record(action="registry.person_created", actor=staff.user, target=person, grid=grid.code)
    return person


def unmask(*, staff: StaffProfile, person: Person, field: str, purpose: str) -> str:
    """The clear value of a protected field, for a role that needs it and a stated purpose.
    Exactly one audit row per call."""
    if field not in ("id_number", "phone"):
        raise ValidationError(_("Only the ID number and the phone can be unmasked."))
    person = access(staff, Person, person.pk)  # not visible → 404 before anything else
    if not can_unmask(staff):
        raise PermissionDenied(_("Your role may not see this in clear."))
    purpose = (purpose or "").strip()
    if len(purpose) < MIN_PURPOSE_LENGTH:
        raise ValidationError(_("State the purpose (at least %(n)d characters).") % {"n": MIN_PURPOSE_LENGTH})
    if person.anonymised_at is not None:
        raise ValidationError(_("This person was anonymised: nothing is left to show."))
    value = person.id_number() if field == "id_number" else person.phone()
    record(action="registry.unmasked", actor=staff.user, target=person, purpose=purpose, field=field)
    return value


def record_sensitive_read(*, staff: StaffProfile, records: list[CareRecord], channel: str) -> None:
    """One audit row for every read (page, API call, export) that shows sensitive care records."""
    sensitive = [r for r in records if r.kind.is_sensitive]
    if sensitive:
        record(action="registry.sensitive_read", actor=staff.user, channel=channel,
               records=[r.pk for r in sensitive], kinds=sorted({r.kind.code for r in sensitive}))


def create_care_kind(*, staff: StaffProfile | None, code: str, name: str, fields: list[dict],
                     granted_roles: list[str], is_sensitive: bool = False) -> CareKind:
    for field in fields:
        if field.get("type", "text") not in CareKind.FIELD_TYPES or not field.get("name"):
            raise ValidationError(_("Each field needs a name and a type from: %(types)s")
                                  % {"types": ", ".join(CareKind.FIELD_TYPES)})
    with transaction.atomic():
        kind = CareKind.objects.create(code=code, name=name, fields=fields, granted_roles=granted_roles,
                                       is_sensitive=is_sensitive)
        record(action="registry.care_kind_created", actor=staff.user if staff else None, target=kind)
    return kind


def set_care_record(*, staff: StaffProfile, person: Person, kind: CareKind, values: dict) -> CareRecord:
    person = access(staff, Person, person.pk)
    if not can_write(staff) or not care_kinds_for(staff).filter(pk=kind.pk).exists():
        raise Http404
    if person.anonymised_at is not None:
        raise ValidationError(_("This person was anonymised and can no longer be changed."))
    clean = kind.clean_values(values)
    with transaction.atomic():
        care, _created = CareRecord.objects.update_or_create(kind=kind, person=person, defaults={"values": clean})
        record(action="registry.care_record_set", actor=staff.user, target=care, kind=kind.code)
    return care


def record_household_visit(*, staff: StaffProfile, household: Household, note: str, visited_at=None,
                           latitude=None, longitude=None) -> HouseholdVisit:
    """A visit (走访) to a household in the actor's grids: one row and one audit row,
    which names the household, never what was found there."""
    household = access(staff, Household, household.pk)  # not visible → 404 before anything else
    _writable_grid(staff, household.grid)
    errors = {}
    note, limit = (note or "").strip(), HouseholdVisit._meta.get_field("note").max_length
    if not note:
        errors["note"] = [_("Say what you found on the visit.")]
    elif len(note) > limit:
        errors["note"] = [_("Keep the note under %(n)d characters.") % {"n": limit}]
    now = timezone.now()
    visited_at = visited_at or now
    if visited_at > now + VISIT_CLOCK_SKEW:
        errors["visited_at"] = [_("A visit cannot be in the future.")]
    position = _position(latitude, longitude, errors)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        visit = HouseholdVisit.objects.create(household=household, visited_by=staff.user, visited_at=visited_at,
                                              note=note, latitude=position[0], longitude=position[1])
        record(action="registry.household_visited", actor=staff.user, target=visit, household=household.number,
               grid=household.grid.code, located=position[0] is not None)
    return visit


def _position(latitude, longitude, errors: dict) -> tuple:
    """(latitude, longitude) as six-place decimals, or (None, None); problems go to ``errors``."""
    if latitude in (None, "") and longitude in (None, ""):
        return None, None
    try:
        lat, lng = Decimal(str(latitude)), Decimal(str(longitude))
    except (InvalidOperation, ValueError):
        lat = lng = Decimal("NaN")
    if not (lat.is_finite() and lng.is_finite() and -90 <= lat <= 90 and -180 <= lng <= 180):
        errors["location"] = [_("The location is not a valid latitude and longitude.")]
        return None, None
    six_places = Decimal("0.000001")
    return lat.quantize(six_places), lng.quantize(six_places)


# --- creating and changing registry records ------------------------------------
#
# One action per kind and operation. They share the checks: the actor may write,
# every grid involved (old and new) is within the actor's grids (else 404, like a
# record that does not exist), referenced records are visible, and the model's own
# validation runs with every problem reported per field before anything is saved.
# The audit row names the changed fields, never their values: the trail must not
# become a second copy of the personal data.

# Fields set through a method (encryption, normalisation) rather than assigned.
_PERSON_SETTERS = {"id_number": "set_id_number", "phone": "set_phone"}
_PERSON_PROTECTED = ["id_number_encrypted", "id_number_index", "phone_encrypted", "phone_index", "gender",
                     "birth_date"]


def _visible(staff: StaffProfile, model, row):
    """A referenced record, re-read through the actor's scope (None stays None)."""
    return None if row is None else access(staff, model, row.pk)


def _check(row, errors: dict, *, exclude=()) -> None:
    """The model's validation plus ``errors`` already found; raises them all at once."""
    try:
        row.full_clean(exclude=list(exclude), validate_unique=True)
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            known = errors.setdefault(field, [])
            known.extend(m for m in messages if m not in known)
    if errors:
        raise ValidationError(errors)


def _save_new(*, staff: StaffProfile, row, errors: dict | None = None, exclude=(), m2m: dict | None = None):
    _writable_grid(staff, row.grid)
    _check(row, dict(errors or {}), exclude=exclude)
    with transaction.atomic():
        row.save()
        for name, related in (m2m or {}).items():
            getattr(row, name).set(related)
        record(action=f"registry.{row._meta.model_name}_created", actor=staff.user, target=row, grid=row.grid.code)
    return row


def _save_changes(*, staff: StaffProfile, row, changes: dict, setters: dict | None = None, exclude=(), m2m=()):
    """Apply ``changes`` (field → value) to a visible, writable record and save only those fields."""
    row = access(staff, type(row), row.pk)
    _writable_grid(staff, row.grid)
    if getattr(row, "anonymised_at", None) is not None:
        # Its data was erased on request: writing it again would undo the erasure.
        raise ValidationError(_("This person was anonymised and can no longer be changed."))
    if changes.get("grid") is not None:
        _writable_grid(staff, changes["grid"])
    errors: dict[str, list[str]] = {}
    for field, value in changes.items():
        if field in m2m:
            continue
        if field in (setters or {}):
            try:
                getattr(row, setters[field])(value)
            except ValidationError as exc:
                errors[field] = exc.messages
        else:
            setattr(row, field, value)
    _check(row, errors, exclude=exclude)
    columns = [f for f in changes if f not in m2m]
    if "id_number" in columns:
        columns += ["id_number_encrypted", "id_number_index", "gender", "birth_date"]
    if "phone" in columns:
        columns += ["phone_encrypted", "phone_index"]
    columns = [f for f in columns if f not in (setters or {})]
    with transaction.atomic():
        # updated_at moves even when only a many-to-many changed: "updated since" must see it.
        row.save(update_fields=[*columns, "updated_at"])
        for name in m2m:
            if name in changes:
                getattr(row, name).set(changes[name])
        record(action=f"registry.{row._meta.model_name}_updated", actor=staff.user, target=row,
               fields=sorted(changes))
    return row


def update_person(*, staff: StaffProfile, person: Person, changes: dict) -> Person:
    """``changes`` may hold name, id_number, phone, residence, registered_address,
    actual_address, household, grid."""
    if "household" in changes:
        changes = {**changes, "household": _visible(staff, Household, changes["household"])}
    if "name" in changes:
        changes = {**changes, "name": (changes["name"] or "").strip()}
    errors = {}
    if "id_number" in changes:
        try:
            parsed = parse_id_number(changes["id_number"])
        except ValidationError:
            parsed = None  # the setter reports it
        if parsed and Person.objects.filter(id_number_index=protection.blind_index(parsed.value, "id")
                                            ).exclude(pk=person.pk).exists():
            errors["id_number"] = [_("A person with this ID number is already registered.")]
    if errors:
        access(staff, Person, person.pk)  # invisible stays 404, whatever the input
        _writable_grid(staff, person.grid)
        raise ValidationError(errors)
    return _save_changes(staff=staff, row=person, changes=changes, setters=_PERSON_SETTERS,
                         exclude=_PERSON_PROTECTED)


def create_household(*, staff: StaffProfile, grid: OrgUnit, number: str, address: str,
                     source: str = "grid") -> Household:
    return _save_new(staff=staff, row=Household(grid=grid, number=number.strip(), address=address.strip(),
                                                source=source))


def update_household(*, staff: StaffProfile, household: Household, changes: dict) -> Household:
    return _save_changes(staff=staff, row=household, changes=changes)


def create_building(*, staff: StaffProfile, grid: OrgUnit, code: str, address: str, floors: int | None = None,
                    latitude=None, longitude=None, source: str = "grid") -> Building:
    return _save_new(staff=staff, row=Building(grid=grid, code=code.strip(), address=address.strip(),
                                               floors=floors, latitude=latitude, longitude=longitude,
                                               source=source))


def update_building(*, staff: StaffProfile, building: Building, changes: dict) -> Building:
    return _save_changes(staff=staff, row=building, changes=changes)


def create_house(*, staff: StaffProfile, building: Building, room: str, grid: OrgUnit | None = None,
                 is_rental: bool = False, owner: Person | None = None, occupants=(),
                 source: str = "grid") -> House:
    """A house in a building; its grid is the building's unless given."""
    building = _visible(staff, Building, building)
    house = House(building=building, room=room.strip(), grid=grid or building.grid, is_rental=is_rental,
                  owner=_visible(staff, Person, owner), source=source)
    occupants = [_visible(staff, Person, p) for p in occupants]
    return _save_new(staff=staff, row=house, m2m={"occupants": occupants})


def update_house(*, staff: StaffProfile, house: House, changes: dict) -> House:
    changes = dict(changes)
    for field, model in (("building", Building), ("owner", Person)):
        if field in changes:
            changes[field] = _visible(staff, model, changes[field])
    if "occupants" in changes:
        changes["occupants"] = [_visible(staff, Person, p) for p in changes["occupants"]]
    return _save_changes(staff=staff, row=house, changes=changes, m2m=("occupants",))


def create_place(*, staff: StaffProfile, grid: OrgUnit, name: str, kind: str, address: str,
                 is_key_place: bool = False, latitude=None, longitude=None, source: str = "grid") -> Place:
    return _save_new(staff=staff, row=Place(grid=grid, name=name.strip(), kind=kind, address=address.strip(),
                                            is_key_place=is_key_place, latitude=latitude, longitude=longitude,
                                            source=source))


def update_place(*, staff: StaffProfile, place: Place, changes: dict) -> Place:
    return _save_changes(staff=staff, row=place, changes=changes)


def _credit_code(raw: str, errors: dict) -> str:
    try:
        return parse_uscc(raw)
    except ValidationError as exc:
        errors["credit_code"] = exc.messages
        return (raw or "").strip().upper()


def create_organisation(*, staff: StaffProfile, grid: OrgUnit, name: str, kind: str, credit_code: str,
                        legal_representative: str = "", address: str = "", source: str = "grid") -> Organisation:
    errors: dict[str, list[str]] = {}
    code = _credit_code(credit_code, errors)
    organisation = Organisation(grid=grid, name=name.strip(), kind=kind, credit_code=code,
                                legal_representative=legal_representative.strip(), address=address.strip(),
                                source=source)
    return _save_new(staff=staff, row=organisation, errors=errors)


def update_organisation(*, staff: StaffProfile, organisation: Organisation, changes: dict) -> Organisation:
    changes = dict(changes)
    if "credit_code" in changes:
        errors: dict[str, list[str]] = {}
        changes["credit_code"] = _credit_code(changes["credit_code"], errors)
        if errors:
            access(staff, Organisation, organisation.pk)
            _writable_grid(staff, organisation.grid)
            raise ValidationError(errors)
    return _save_changes(staff=staff, row=organisation, changes=changes)


def create_thing(*, staff: StaffProfile, grid: OrgUnit, code: str, kind: str, latitude, longitude,
                 state: str = "normal", source: str = "grid") -> Thing:
    return _save_new(staff=staff, row=Thing(grid=grid, code=code.strip(), kind=kind.strip(), state=state,
                                            latitude=latitude, longitude=longitude, source=source))


def update_thing(*, staff: StaffProfile, thing: Thing, changes: dict) -> Thing:
    return _save_changes(staff=staff, row=thing, changes=changes)


def update_care_record(*, staff: StaffProfile, care_record: CareRecord, values: dict) -> CareRecord:
    """Change some values of a care record: the rest stay; the whole is checked against the kind."""
    care_record = access_care_record(staff, care_record.pk)
    return set_care_record(staff=staff, person=care_record.person, kind=care_record.kind,
                           values={**care_record.values, **values})
