"""Registry lists as tables: the columns each kind of record shows, and CSV / XLSX writers.

The console's list pages and both export formats render the same ``Column``
definitions, so a value masked on screen is masked in every file: there is one
place where a protected value becomes text, and it is ``mask_*``. Callers pass
rows already scoped by a selector and write the sensitive-read audit row first.
"""

from __future__ import annotations

import csv
import datetime
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _l

from civicgrid.platform.files.spreadsheets import defuse

from .models import Building, CareRecord, House, Household, Organisation, Person, Place, Thing
from .protection import mask_name


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    value: Callable[[object], object]


def _grid(row) -> str:
    return str(row.grid)


@lru_cache(maxsize=1024)
def _label(model, field: str, value, language: str) -> str:
    # Translating a lazy label costs more than the rest of a row: once per value and language.
    return str(dict(model._meta.get_field(field).flatchoices).get(value, value))


def _choice(field: str) -> Callable[[object], str]:
    return lambda row: _label(type(row), field, getattr(row, field), translation.get_language())


@lru_cache(maxsize=8)
def _yes_no_in(value: bool, language: str) -> str:
    return str(_l("Yes") if value else _l("No"))


def _yes_no(value: bool) -> str:
    return _yes_no_in(bool(value), translation.get_language())


def _care_kinds(person: Person) -> str:
    # ``visible_care`` is prefetched by the caller with only the kinds granted to it.
    return "、".join(record.kind.name for record in getattr(person, "visible_care", []))


def _care_values(record: CareRecord) -> str:
    labels = {f["name"]: f.get("label", f["name"]) for f in record.kind.fields}
    return "; ".join(f"{labels.get(name, name)}: {value}" for name, value in record.values.items())


def _care_person(record: CareRecord) -> str:
    # A name beside a sensitive kind identifies on its own: files carry it masked.
    return mask_name(record.person.name) if record.kind.is_sensitive else record.person.name


COLUMNS: dict[type, list[Column]] = {
    Person: [
        Column("name", _l("Name"), lambda p: p.name),
        Column("id_number", _l("ID number"), lambda p: p.masked_id_number),
        Column("phone", _l("Phone"), lambda p: p.masked_phone),
        Column("gender", _l("Gender"), _choice("gender")),
        Column("birth_date", _l("Birth date"), lambda p: p.birth_date),
        Column("residence", _l("Residence"), _choice("residence")),
        Column("grid", _l("Grid"), _grid),
        Column("household", _l("Household"), lambda p: p.household.number if p.household_id else ""),
        Column("actual_address", _l("Actual address"), lambda p: p.actual_address),
        Column("care_kinds", _l("Care groups"), _care_kinds),
    ],
    Household: [
        Column("number", _l("Household number"), lambda h: h.number),
        Column("address", _l("Address"), lambda h: h.address),
        Column("grid", _l("Grid"), _grid),
    ],
    Building: [
        Column("code", _l("Code"), lambda b: b.code),
        Column("address", _l("Address"), lambda b: b.address),
        Column("floors", _l("Floors"), lambda b: b.floors),
        Column("grid", _l("Grid"), _grid),
    ],
    House: [
        Column("building", _l("Building"), lambda h: h.building.address),
        Column("room", _l("Room"), lambda h: h.room),
        Column("is_rental", _l("Rental"), lambda h: _yes_no(h.is_rental)),
        Column("owner", _l("Owner"), lambda h: h.owner.name if h.owner_id else ""),
        Column("grid", _l("Grid"), _grid),
    ],
    Place: [
        Column("name", _l("Name"), lambda p: p.name),
        Column("kind", _l("Kind"), _choice("kind")),
        Column("is_key_place", _l("Key place"), lambda p: _yes_no(p.is_key_place)),
        Column("address", _l("Address"), lambda p: p.address),
        Column("grid", _l("Grid"), _grid),
    ],
    Organisation: [
        Column("name", _l("Name"), lambda o: o.name),
        Column("kind", _l("Kind"), _choice("kind")),
        Column("credit_code", _l("Unified social credit code"), lambda o: o.credit_code),
        Column("legal_representative", _l("Legal representative"), lambda o: o.legal_representative),
        Column("address", _l("Address"), lambda o: o.address),
        Column("grid", _l("Grid"), _grid),
    ],
    Thing: [
        Column("code", _l("Code"), lambda t: t.code),
        Column("kind", _l("Kind"), lambda t: t.kind),
        Column("state", _l("State"), _choice("state")),
        Column("latitude", _l("Latitude"), lambda t: t.latitude),
        Column("longitude", _l("Longitude"), lambda t: t.longitude),
        Column("grid", _l("Grid"), _grid),
    ],
    CareRecord: [
        Column("kind", _l("Care group"), lambda r: r.kind.name),
        Column("person", _l("Person"), _care_person),
        Column("id_number", _l("ID number"), lambda r: r.person.masked_id_number),
        Column("grid", _l("Grid"), lambda r: str(r.person.grid)),
        Column("values", _l("Details"), _care_values),
        Column("updated_at", _l("Updated"), lambda r: r.updated_at),
    ],
}

# A workbook is built whole before the first byte goes out (about 2,000 rows a
# second with openpyxl's pure-Python writer): past this, CSV streams instead.
XLSX_MAX_ROWS = 50_000



def cell(value) -> object:
    """A value as a spreadsheet cell: numbers and dates stay typed, text is defused."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return _yes_no(value)
    if isinstance(value, int | float | Decimal):
        return value
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return defuse(value)


def table_rows(rows: Iterable, columns: list[Column]) -> Iterator[list]:
    for row in rows:
        yield [cell(column.value(row)) for column in columns]


def _filename(stem: str, extension: str) -> str:
    return f"{stem}-{timezone.localdate():%Y%m%d}.{extension}"


class _Echo:
    """csv.writer writes into this; each row comes straight back out to the response."""

    def write(self, value: str) -> str:
        return value


def csv_response(rows: Iterable, columns: list[Column], stem: str) -> StreamingHttpResponse:
    """Streams: a million rows never sit in memory (pass ``queryset.iterator(chunk_size=…)``)."""
    writer = csv.writer(_Echo())
    # The body is written after the view returns: keep the request's language for it.
    language = translation.get_language()

    def lines():
        with translation.override(language):
            # The byte-order mark makes Excel read the file as UTF-8 (Chinese names).
            yield "\ufeff" + writer.writerow([str(c.header) for c in columns])
            for values in table_rows(rows, columns):
                yield writer.writerow(values)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename(stem, "csv")}"'
    return response


def xlsx_response(rows: Iterable, columns: list[Column], stem: str, title: str) -> FileResponse:
    """A write-only workbook: openpyxl streams rows to a temporary file, not a tree in memory."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=str(title)[:31])
    sheet.append([str(c.header) for c in columns])
    for values in table_rows(rows, columns):
        sheet.append(values)
    target = tempfile.TemporaryFile()
    workbook.save(target)
    target.seek(0)
    return FileResponse(target, as_attachment=True, filename=_filename(stem, "xlsx"),
                        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
