"""Checking, encrypting and encoding staged rows: pure functions, no database.

This is the hot loop of an import (a million rows in well under a minute), so
it runs in worker processes on chunks of the file and hands back bytes ready
for ``COPY … FROM STDIN`` (text format). Everything a worker needs travels in
``RowRules``; reasons are rendered in the batch's language.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import json
import os
from array import array
from dataclasses import dataclass
from operator import mul
from typing import NamedTuple

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext as _

from civicgrid.platform.registry import protection
from civicgrid.platform.registry.identity import normalise_phone, parse_id_number

from .models import Field, Outcome

# The order of the staging table's columns in every COPY line.
COPY_COLUMNS = ("batch_id", "line", "name", "id_index", "id_encrypted", "id_masked", "gender", "birth_date",
                "phone_encrypted", "phone_index", "phone_masked", "residence", "registered_address",
                "actual_address", "grid_code", "grid_id", "household_number", "errors", "outcome")

NONCE_POOL = 4096
_NEW = Outcome.NEW.value
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ASCII_ZERO_WEIGHT = ord("0") * sum(_ID_WEIGHTS)


@dataclass(frozen=True)
class RowRules:
    batch_id: int
    columns: dict[str, int]  # field → index of its column in the file
    width: int  # columns in the header
    grids: dict[str, int]  # grid code → org unit id
    residences: dict[str, str]  # accepted spelling (casefolded) → stored value
    max_lengths: dict[str, int]
    language: str
    delimiter: str = ","


class Chunk(NamedTuple):
    data: bytes  # COPY text format
    rows: int
    bad: int
    # 64 bits of each good ID number's blind index: enough to notice a repeated ID
    # number without the database (a false alarm only costs the exact check).
    id_keys: bytes
    first_line: int = 0  # of the rows in this chunk (0: none)
    last_line: int = 0


class RowEncoder:
    """Validates rows of one chunk and writes their COPY lines. One per process."""

    def __init__(self, rules: RowRules):
        self.rules = rules
        self.today = datetime.date.today()
        self._birth_dates: dict[str, str | None] = {}
        self._nonces, self._nonce_at = b"", 0
        # The same keys and constructions as ``protection.encrypt`` / ``blind_index``
        # (a test proves it), with the cipher and the HMAC key schedule prepared
        # once rather than per value: at a million rows that is many seconds.
        cipher_key, index_key = protection._keys()
        self.cipher = AESGCM(cipher_key)
        assert len(index_key) <= 64  # HMAC-SHA256 pads keys up to its 64-byte block
        padded = index_key.ljust(64, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in padded))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in padded))
        columns = rules.columns
        self.i_name, self.i_id, self.i_grid = columns["name"], columns["id_number"], columns["grid"]
        self.optional = [(field, columns.get(field)) for field in (
            "phone", "residence", "registered_address", "actual_address", "household")]
        self.max_index = max(columns.values())
        self.width = rules.width
        self.grids = rules.grids
        self.optional_indexes = tuple(index for _field, index in self.optional)
        limits = rules.max_lengths
        self.name_limit = limits.get("name", 0)
        self.limits = {field: limits[field] for field, _i in self.optional if field in limits}
        self.limit_registered = limits.get(Field.REGISTERED_ADDRESS, 0)
        self.limit_actual = limits.get(Field.ACTUAL_ADDRESS, 0)
        self.limit_household = limits.get(Field.HOUSEHOLD, 0)
        with translation.override(rules.language):
            self.messages = {
                "columns": _("The row has %(found)d columns; the header has %(expected)d."),
                "name": _("The name is missing."),
                "too_long": _("%(field)s is longer than %(n)d characters."),
                "id_missing": _("The ID number is missing."),
                "grid_missing": _("The grid code is missing."),
                "grid_unknown": _("There is no grid with the code %(code)s."),
                "residence": _("The residence %(value)s is neither registered nor floating."),
            }
            self.labels = {f.value: str(f.label) for f in Field}

    # --- values -----------------------------------------------------------------

    def encrypt(self, value: str) -> str:
        nonce = self._nonce()
        return "\\\\x" + (nonce + self.cipher.encrypt(nonce, value.encode(), None)).hex()

    def _nonce(self) -> bytes:
        """Fresh random bytes, read from the OS 4,096 nonces at a time (one system
        call instead of one per value). Each process reads its own."""
        start = self._nonce_at
        if start >= len(self._nonces):
            self._nonces, start = os.urandom(NONCE_POOL * protection.NONCE_BYTES), 0
        self._nonce_at = start + protection.NONCE_BYTES
        return self._nonces[start:self._nonce_at]

    def blind_index(self, value: str, kind: str) -> str:
        """HMAC-SHA256 from the prepared inner and outer states (RFC 2104)."""
        inner = self._inner.copy()
        inner.update(f"{kind}:{value}".encode())
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()

    def fast_id(self, raw: str):
        """(value, gender, ISO birth date) when ``raw`` is a valid ID number, else None.

        Accepts exactly what ``identity.parse_id_number`` accepts (a test
        compares them), at a fraction of its cost; whatever it refuses goes to
        ``parse_id_number`` for the reason.
        """
        value = raw.strip().upper()
        if len(value) != 18 or not value.isascii() or not value[:17].isdigit():
            return None
        last = value[17]
        if not (last.isdigit() or last == "X"):
            return None
        birth = self._birth_dates.get(value[6:14], False)
        if birth is False:  # a million rows hold some tens of thousands of birth dates
            birth = self._birth_dates[value[6:14]] = self._birth_date(value[6:14])
        if birth is None:
            return None
        if _ID_CHECK[(sum(map(mul, value[:17].encode(), _ID_WEIGHTS)) - _ASCII_ZERO_WEIGHT) % 11] != last:
            return None
        return value, ("M" if int(value[16]) % 2 else "F"), birth

    def _birth_date(self, digits: str) -> str | None:
        """The ISO date of eight digits YYYYMMDD if it is a possible birth date."""
        year = int(digits[:4])
        try:
            birth = datetime.date(year, int(digits[4:6]), int(digits[6:8]))
        except ValueError:
            return None
        return birth.isoformat() if 1880 <= year and birth <= self.today else None

    @staticmethod
    def phone(raw: str) -> str:
        """``normalise_phone``, without its work for the usual plain 11-digit mobile."""
        if len(raw) == 11 and raw[0] == "1" and raw.isascii() and raw.isdigit():
            return raw
        return normalise_phone(raw)

    # --- rows -------------------------------------------------------------------

    def good_row(self, cells: list[str], line: int) -> tuple[str, str] | None:
        """(COPY line, ID blind index) for the usual row with nothing to say about it,
        or None: then ``row`` does the full work and gives the reasons. Same output
        as ``row`` for every row it accepts (a test compares them); it only skips the
        bookkeeping a bad row needs, which is most of the time per row."""
        if len(cells) != self.width:
            return None
        name = cells[self.i_name].strip()
        if not name or len(name) > self.name_limit:
            return None
        parsed = self.fast_id(cells[self.i_id])
        if parsed is None:
            return None
        grid_code = cells[self.i_grid].strip()
        grid_id = self.grids.get(grid_code)
        if grid_id is None:
            return None
        i_phone, i_residence, i_registered, i_actual, i_household = self.optional_indexes
        phone = cells[i_phone].strip() if i_phone is not None else ""
        if phone and not (len(phone) == 11 and phone[0] == "1" and phone.isascii() and phone.isdigit()):
            return None
        residence = cells[i_residence].strip() if i_residence is not None else ""
        if residence:
            residence = self.rules.residences.get(residence.casefold())
            if residence is None:
                return None
        registered = cells[i_registered].strip() if i_registered is not None else ""
        actual = cells[i_actual].strip() if i_actual is not None else ""
        household = cells[i_household].strip() if i_household is not None else ""
        if (len(registered) > self.limit_registered or len(actual) > self.limit_actual
                or len(household) > self.limit_household):
            return None
        texts = name + residence + registered + actual + grid_code + household
        if "\\" in texts or "\t" in texts or "\n" in texts or "\r" in texts:
            return None
        id_value, gender, birth = parsed
        id_index = self.blind_index(id_value, "id")
        if phone:
            phone_part = (f"{self.encrypt(phone)}\t{self.blind_index(phone, 'phone')}\t"
                          f"{phone[:3]}****{phone[7:]}")
        else:
            phone_part = "\\N\t\t"
        return (f"{self.batch_id}\t{line}\t{name}\t{id_index}\t{self.encrypt(id_value)}\t"
                f"{id_value[:6]}********{id_value[14:]}\t{gender}\t{birth}\t{phone_part}\t{residence}\t"
                f"{registered}\t{actual}\t{grid_code}\t{grid_id}\t{household}\t\\N\t{_NEW}\n"), id_index

    def row(self, cells: list[str], line: int) -> tuple[str, bool, str]:
        """The COPY line for one file row, whether it is good, and the ID's blind index ("" if none)."""
        messages = self.messages
        errors: list[str] = []
        found = len(cells)
        if found != self.rules.width:
            errors.append(messages["columns"] % {"found": found, "expected": self.rules.width})
            if found <= self.max_index:
                cells = cells + [""] * (self.max_index + 1 - found)

        name = cells[self.i_name].strip()
        if not name:
            errors.append(messages["name"])
        elif len(name) > self.name_limit:
            errors.append(messages["too_long"] % {"field": self.labels["name"], "n": self.name_limit})

        raw_id = cells[self.i_id]
        parsed = self.fast_id(raw_id)
        if parsed:
            id_value, gender, birth = parsed
            id_index, id_encrypted = self.blind_index(id_value, "id"), self.encrypt(id_value)
            id_masked = id_value[:6] + "********" + id_value[14:]  # protection.mask_id_number, for 18 characters
        else:
            raw_id = raw_id.strip()
            id_index, id_encrypted, gender, birth = "", "\\N", "", "\\N"
            id_masked = protection.mask_id_number(raw_id)
            if not raw_id:
                errors.append(messages["id_missing"])
            else:
                try:
                    parse_id_number(raw_id)
                except ValidationError as exc:
                    errors.extend(exc.messages)

        optional = {}
        for field, index in self.optional:
            value = cells[index].strip() if index is not None else ""
            if value and field in self.limits and len(value) > self.limits[field]:
                errors.append(messages["too_long"] % {"field": self.labels[field], "n": self.limits[field]})
            optional[field] = value

        phone_index, phone_encrypted, phone_masked = "", "\\N", ""
        raw_phone = optional["phone"]
        if raw_phone:
            try:
                phone = self.phone(raw_phone)
            except ValidationError as exc:
                errors.extend(exc.messages)
                phone_masked = protection.mask_phone(raw_phone)
            else:
                phone_index, phone_encrypted = self.blind_index(phone, "phone"), self.encrypt(phone)
                # protection.mask_phone, for the usual 11 digits
                phone_masked = phone[:3] + "****" + phone[7:] if len(phone) == 11 else protection.mask_phone(phone)

        residence = optional["residence"]
        if residence:
            stored = self.rules.residences.get(residence.casefold())
            if stored is None:
                errors.append(messages["residence"] % {"value": residence})
            residence = stored or residence

        grid_code = cells[self.i_grid].strip()
        grid_id = self.rules.grids.get(grid_code)
        if grid_id is None:
            errors.append(messages["grid_unknown"] % {"code": grid_code} if grid_code else messages["grid_missing"])

        texts = [name, id_masked, phone_masked, residence, optional["registered_address"],
                 optional["actual_address"], grid_code, optional["household"]]
        probe = "".join(texts)
        if "\\" in probe or "\t" in probe or "\n" in probe or "\r" in probe:
            texts = [_text(t) for t in texts]
        fields = (
            self.batch_id, str(line), texts[0], id_index, id_encrypted, texts[1], gender, birth, phone_encrypted,
            phone_index, texts[2], texts[3], texts[4], texts[5], texts[6],
            str(grid_id) if grid_id is not None else "\\N", texts[7],
            _text(json.dumps(errors, ensure_ascii=False)) if errors else "\\N",
            Outcome.BAD.value if errors else Outcome.NEW.value,
        )
        return "\t".join(fields) + "\n", not errors, id_index

    @property
    def batch_id(self) -> str:
        return str(self.rules.batch_id)

    def rows(self, records) -> Chunk:
        """COPY bytes for (line, cells) pairs; blank rows are skipped."""
        out: list[str] = []
        keys = array("Q")
        good = first_line = last_line = 0
        row, good_row = self.row, self.good_row
        for line, cells in records:
            if not cells or (not cells[0] and not any(c.strip() for c in cells)):
                continue
            first_line = first_line or line
            last_line = line
            quick = good_row(cells, line)
            if quick is not None:
                text, id_index = quick
                ok = True
            else:
                text, ok, id_index = row(cells, line)
            out.append(text)
            good += ok
            if id_index:
                keys.append(int(id_index[:16], 16))
        return Chunk("".join(out).encode(), len(out), len(out) - good, keys.tobytes(), first_line, last_line)

    def csv_chunk(self, data: bytes, encoding: str, first_line: int) -> Chunk:
        """A piece of a CSV file that starts and ends on row boundaries."""
        return self.rows(_csv_records(data.decode(encoding), first_line, self.rules.delimiter))


def _csv_records(text: str, first_line: int, delimiter: str):
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    consumed = 0
    for cells in reader:
        yield first_line + consumed, cells
        consumed = reader.line_num


def _text(value: str) -> str:
    """COPY text format: backslash, tab and line ends are escaped."""
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        value = value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return value


# --- worker processes -----------------------------------------------------------

_encoder: RowEncoder | None = None


def start_worker(rules: RowRules) -> None:
    global _encoder
    translation.activate(rules.language)
    _encoder = RowEncoder(rules)


def csv_chunk_in_worker(job: tuple[bytes, str, int]) -> Chunk:
    return _encoder.csv_chunk(*job)


def rows_in_worker(records: list[tuple[int, list[str]]]) -> Chunk:
    return _encoder.rows(records)
