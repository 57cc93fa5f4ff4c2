"""National identifiers: resident ID numbers (GB 11643) and unified social credit
codes (GB 32100). Pure functions, no database."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"

_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


@dataclass(frozen=True)
class IdNumber:
    value: str
    region: str
    birth_date: datetime.date
    gender: str  # "M" or "F"


def id_check_char(first17: str) -> str:
    return _ID_CHECK[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def parse_id_number(raw: str) -> IdNumber:
    """Normalise and check an 18-digit resident ID number; raises ValidationError saying why."""
    value = (raw or "").strip().upper()
    if len(value) != 18 or not value[:17].isdigit() or not (value[17].isdigit() or value[17] == "X"):
        raise ValidationError(_("An ID number has 17 digits followed by a digit or X."), code="id_format")
    try:
        birth = datetime.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError as exc:
        raise ValidationError(_("The birth date in the ID number does not exist."), code="id_birth_date") from exc
    if birth.year < 1880 or birth > datetime.date.today():
        raise ValidationError(_("The birth date in the ID number is out of range."), code="id_birth_date")
    if id_check_char(value[:17]) != value[17]:
        raise ValidationError(_("The ID number's check digit is wrong."), code="id_checksum")
    return IdNumber(value=value, region=value[:6], birth_date=birth, gender="M" if int(value[16]) % 2 else "F")


def uscc_check_char(first17: str) -> str:
    total = sum(_USCC_CHARS.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return _USCC_CHARS[(31 - total % 31) % 31]


def parse_uscc(raw: str) -> str:
    """Normalise and check an 18-character unified social credit code."""
    value = (raw or "").strip().upper()
    if len(value) != 18 or any(c not in _USCC_CHARS for c in value):
        raise ValidationError(_("A unified social credit code has 18 characters from 0-9 and A-Y (no I, O, S, V, Z)."),
                              code="uscc_format")
    if uscc_check_char(value[:17]) != value[17]:
        raise ValidationError(_("The unified social credit code's check character is wrong."), code="uscc_checksum")
    return value


def normalise_phone(raw: str) -> str:
    """Digits only; a mainland mobile (11 digits from 1) or a fixed line with area code."""
    digits = "".join(c for c in (raw or "") if c.isdigit())
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if not (len(digits) == 11 and digits[0] == "1") and not (10 <= len(digits) <= 12 and digits[0] == "0"):
        raise ValidationError(_("A phone number is an 11-digit mobile or a fixed line with its area code."),
                              code="phone_format")
    return digits
