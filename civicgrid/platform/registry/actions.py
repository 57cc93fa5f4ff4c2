"""Registry writes, unmasking and sensitive reads. Every entry point calls these."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _

from civicgrid.platform.accounts.staff.models import StaffProfile
from civicgrid.platform.audit.actions import record
from civicgrid.platform.org.models import OrgUnit
from civicgrid.platform.org.selectors import grids_for

from .models import CareKind, CareRecord, Household, Person
from .selectors import access, can_unmask, can_write, care_kinds_for

MIN_PURPOSE_LENGTH = 4


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
    clean = kind.clean_values(values)
    with transaction.atomic():
        care, _created = CareRecord.objects.update_or_create(kind=kind, person=person, defaults={"values": clean})
        record(action="registry.care_record_set", actor=staff.user, target=care, kind=kind.code)
    return care
