"""Verifying a list of people (name + ID number + address) against the registry.

One action, ``verify_people``, called by the console page, the API and the command
line alike. It is set-based: every row's blind index is computed in Python, the
registry is read once per few thousand rows (or through one join for large lists),
and nothing is decrypted: names and addresses are plain columns, and the ID number
is matched by its blind index.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.http import Http404
from django.utils.translation import pgettext_lazy

from civicgrid.platform.accounts.staff.models import StaffProfile
from civicgrid.platform.audit.actions import record
from civicgrid.platform.registry.identity import parse_id_number
from civicgrid.platform.registry.protection import blind_index, mask_id_number

from .selectors import can_verify, registered_details

# Web requests (page, API) take at most this many rows at a time; the command line takes any number.
MAX_ROWS_PER_REQUEST = 100_000


# Labels carry a context: "Not found" and "Name" already mean a missing page and a
# thing's name elsewhere in the catalogue, and a person's 姓名 is not a thing's 名称.
class Outcome(models.TextChoices):
    CONSISTENT = "consistent", pgettext_lazy("verification outcome", "Consistent")
    DIFFERENT = "different", pgettext_lazy("verification outcome", "Different")
    NOT_FOUND = "not_found", pgettext_lazy("verification outcome", "Not found")
    INVALID_ID = "invalid_id", pgettext_lazy("verification outcome", "Invalid ID number")


class Field(models.TextChoices):
    """What can differ between a row and the registry."""

    NAME = "name", pgettext_lazy("person", "Name")
    ADDRESS = "address", pgettext_lazy("person", "Address")


@dataclass(frozen=True, slots=True)
class Row:
    name: str
    id_number: str
    address: str
    line: int = 0  # where the row came from (a file's line); 0: its position in the list


@dataclass(frozen=True, slots=True)
class Result:
    line: int
    name: str
    id_number: str  # always masked
    address: str
    outcome: str
    differences: tuple[str, ...] = ()
    reason: str = ""  # why an ID number is invalid, in the language active when verified


# Names of several ethnic groups carry a middle dot that is typed many ways.
_NAME_DOTS = str.maketrans({c: "·" for c in "•・‧∙.．"})


def _folded(text: str) -> str:
    """Full-width → half-width (NFKC), no whitespace at all, case-insensitive."""
    return "".join(unicodedata.normalize("NFKC", text or "").split()).casefold()


def normalise_name(text: str) -> str:
    return _folded(text).translate(_NAME_DOTS)


def normalise_address(text: str) -> str:
    return _folded(text)


def normalise_id_number(text) -> str:
    # Spreadsheets hand over full-width digits, spaces inside and a lowercase x.
    return _folded(str(text if text is not None else "")).upper()


def _compare(row: Row, registered: tuple[str, str, str]) -> tuple[str, ...]:
    name, registered_address, actual_address = registered
    differences = []
    # Exact equality first: most rows of a real list match as typed, and skipping
    # Unicode normalisation for them halves the time spent comparing.
    if row.name != name and normalise_name(row.name) != normalise_name(name):
        differences.append(Field.NAME.value)
    if not (row.address and row.address in (registered_address, actual_address)):
        # Either address on file will do; an empty one on file matches nothing.
        on_file = {a for a in (normalise_address(registered_address), normalise_address(actual_address)) if a}
        given = normalise_address(row.address)
        if (given not in on_file) if on_file else given:
            differences.append(Field.ADDRESS.value)
    return tuple(differences)


def verify_people(*, staff: StaffProfile | None, rows: Iterable[Row], channel: str = "") -> list[Result]:
    """One result per row, in input order, ID numbers masked. A person outside the
    actor's scope is ``not_found``, exactly like one who does not exist.

    ``staff`` None is the system (command line without a named staff member): the
    whole tenant. One audit row per call, whatever the size of the list."""
    if not can_verify(staff):
        raise Http404
    rows = list(rows)
    parsed: list[tuple[Row, str, str, str]] = []  # (row, blind index or "", masked ID, reason)
    for position, row in enumerate(rows, start=1):
        if not row.line:
            row = Row(row.name, row.id_number, row.address, position)
        raw = normalise_id_number(row.id_number)
        try:
            value = parse_id_number(raw).value
        except ValidationError as exc:
            parsed.append((row, "", mask_id_number(raw), exc.messages[0]))
            continue
        parsed.append((row, blind_index(value, "id"), mask_id_number(value), ""))

    with transaction.atomic():
        registered = registered_details(staff, (index for _row, index, _m, _r in parsed if index))
        results = []
        for row, index, masked, reason in parsed:
            if not index:
                outcome, differences = Outcome.INVALID_ID.value, ()
            elif index not in registered:
                outcome, differences = Outcome.NOT_FOUND.value, ()
            else:
                differences = _compare(row, registered[index])
                outcome = Outcome.DIFFERENT.value if differences else Outcome.CONSISTENT.value
            results.append(Result(row.line, row.name, masked, row.address, outcome, differences, reason))
        record(action="registry.verified", actor=staff.user if staff is not None else None,
               rows=len(results), outcomes=count_outcomes(results), channel=channel)
    return results


def count_outcomes(results: Iterable[Result]) -> dict[str, int]:
    counts = Counter(r.outcome for r in results)
    return {outcome: counts.get(outcome, 0) for outcome in Outcome.values}
