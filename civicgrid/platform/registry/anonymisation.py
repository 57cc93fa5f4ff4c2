"""Erasing a person on request (PIPL art. 47, the right to deletion), keeping what is not theirs.

The person's row stays as a placeholder, so counts by grid, gender and age and the cases
that name the person still add up; everything that identifies goes:

erased   name (a placeholder instead), ID number and phone (the encrypted values and their
         blind indexes: a search by them can no longer match), the day and month of birth
         (the year stays, for age statistics), both addresses, every care record (sensitive
         or not: each describes the person), the household membership, house occupancy and
         ownership.
changed  cases the person reported (matched by the blind index of their phone, or linked to
         the person and carrying their name as reporter) lose the reporter's name, phone and
         e-mail; their search documents are queued for re-indexing.
kept     gender and birth year; the grid; what cases say (title, description, result,
         timeline): they are the public record of what was reported and done, and belong to
         the county's work as much as to the reporter; the case's link to the placeholder.
audit    one row: who, when, why (the stated reason) and how many records of each kind were
         touched, never a value that was erased. Rows already in the trail are not changed
         (append-only); they hold ids, grid codes and field names, not personal data.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from civicgrid.platform.accounts.staff.models import StaffProfile
from civicgrid.platform.audit.actions import record
from civicgrid.platform.cases.models import Case

from .models import Person
from .selectors import access, can_write

MIN_REASON_LENGTH = 4


def anonymise_person(*, staff: StaffProfile | None, person: Person, reason: str) -> Person:
    """``staff`` None is the system (the command line without ``--as``): the whole tenant,
    audited as "system", as whoever runs commands already holds the server."""
    if staff is not None:
        person = access(staff, Person, person.pk)  # not visible → 404 before anything else
        if not can_write(staff):
            raise Http404
    reason = (reason or "").strip()
    if len(reason) < MIN_REASON_LENGTH:
        raise ValidationError({"reason": _("State why the person's data is erased (at least %(n)d characters).")
                               % {"n": MIN_REASON_LENGTH}})
    with transaction.atomic():
        person = Person.objects.select_for_update().get(pk=person.pk)
        if person.anonymised_at is not None:
            raise ValidationError({"reason": _("This person was already anonymised.")})
        reported = Case.objects.filter(
            (Q(reporter_phone_index=person.phone_index) if person.phone_index else Q(pk__in=[]))
            | Q(persons=person, reporter_name=person.name)).distinct()
        case_ids = list(reported.values_list("pk", flat=True))
        Case.objects.filter(pk__in=case_ids).update(reporter_name="", reporter_phone_encrypted=None,
                                                    reporter_phone_index="", reporter_email="",
                                                    updated_at=timezone.now())
        care_records, _kinds = person.care_records.all().delete()
        houses_lived = person.occupied_houses.count()
        person.occupied_houses.clear()
        houses_owned = person.owned_houses.update(owner=None)
        _erase(person)
        record(action="registry.person_anonymised", actor=staff.user if staff else None, target=person, purpose=reason,
               cases=len(case_ids), care_records=care_records, houses=houses_lived + houses_owned)
        if case_ids:
            _reindex_on_commit(case_ids)
    return person


def _erase(person: Person) -> None:
    person.name = pgettext("placeholder for an erased person's name", "Anonymised #%(id)s") % {"id": person.pk}
    person.id_number_encrypted = b""
    # Unique and never a hex HMAC, so no searched number can match it.
    person.id_number_index = f"erased:{person.pk}"
    person.phone_encrypted, person.phone_index = None, ""
    person.birth_date = datetime.date(person.birth_date.year, 1, 1)
    person.registered_address = person.actual_address = ""
    person.household = None
    person.anonymised_at = timezone.now()
    person.save(update_fields=["name", "id_number_encrypted", "id_number_index", "phone_encrypted", "phone_index",
                               "birth_date", "registered_address", "actual_address", "household", "anonymised_at",
                               "updated_at"])


def _reindex_on_commit(case_ids: list[int]) -> None:
    from civicgrid.search.indexing import queue_cases, request_drain

    queue_cases(case_ids)
    schema = connection.schema_name
    transaction.on_commit(lambda: request_drain(schema), robust=True)
