"""POST requests: an Open311 client's report becomes a case through the same
``report_case`` every other channel uses. This module only translates the wire
format (strings, the spec's field names, its error codes) and checks the key."""

from __future__ import annotations

import math
import re

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import transaction
from django.utils.translation import gettext as _

from civicgrid.platform.audit.actions import record
from civicgrid.platform.cases import actions
from civicgrid.platform.cases.models import Case, Source

from . import keys, selectors
from .errors import Open311Error
from .present import MEDIA_LINE

MAX_DESCRIPTION = 4000  # the spec's limit
TITLE_LENGTH = 60
_CJK = re.compile(r"[\u3400-\u9fff]")


def submit_request(*, api_key: str, service_code: str, lat: str = "", long: str = "", address_string: str = "",
                   address_id: str = "", email: str = "", first_name: str = "", last_name: str = "",
                   phone: str = "", description: str = "", media_url: str = "") -> Case:
    """A new case from the client holding ``api_key``. Raises Open311Error: 403 for a
    missing, unknown or revoked key, 400 for a missing or bad field, 404 for an
    unknown service_code; nothing is created then."""
    client = keys.key_for((api_key or "").strip())
    if client is None:
        raise Open311Error(403, _("Missing or invalid api_key: ask the county for a key."))
    service_code = (service_code or "").strip()
    if not service_code:
        raise Open311Error(400, _("service_code was not provided."))
    category = selectors.service(service_code)

    problems = []
    latitude, longitude = _point(lat, long, problems)
    address = (address_string or "").strip()
    if latitude is None and not address and not problems:
        problems.append(_("address_id is not used here: send lat and long, or address_string.")
                        if (address_id or "").strip() else
                        _("Give the location: lat and long, or address_string."))
    description = (description or "").strip()
    if len(description) > MAX_DESCRIPTION:
        problems.append(_("description is limited to %(n)d characters.") % {"n": MAX_DESCRIPTION})
    email = (email or "").strip()
    if email and not _valid(validate_email, email):
        problems.append(_("email is not a valid e-mail address."))
    media_url = (media_url or "").strip()
    if media_url and (len(media_url) > 500 or not _valid(URLValidator(schemes=["http", "https"]), media_url)):
        problems.append(_("media_url must be an http or https URL."))
    if problems:
        raise Open311Error(400, *problems)

    try:
        with transaction.atomic():
            case = actions.report_case(
                staff=None, source=Source.OPEN311, category=category, title=actions.title_from(description, category.name, TITLE_LENGTH),
                description=description + (MEDIA_LINE + media_url if media_url else ""),
                latitude=latitude, longitude=longitude, address=address,
                reporter_name=_full_name(first_name, last_name), reporter_phone=(phone or "").strip(),
                reporter_email=email, actor=None)
            record(action="open311.request", target=case, number=case.number, client=client.label)
    except ValidationError as exc:
        raise Open311Error(400, *_messages(exc)) from exc
    return case


def _point(lat: str, long: str, problems: list) -> tuple[float | None, float | None]:
    lat, long = (lat or "").strip(), (long or "").strip()
    if not lat and not long:
        return None, None
    if not lat or not long:
        problems.append(_("lat and long both need to be sent."))
        return None, None
    try:
        latitude, longitude = float(lat), float(long)
    except ValueError:
        latitude = longitude = math.nan
    if not (math.isfinite(latitude) and math.isfinite(longitude)):
        problems.append(_("lat and long must be numbers (WGS84 degrees)."))
        return None, None
    return latitude, longitude


def _valid(validator, value: str) -> bool:
    try:
        validator(value)
    except ValidationError:
        return False
    return True


def _full_name(first: str, last: str) -> str:
    first, last = (first or "").strip(), (last or "").strip()
    if _CJK.search(first + last):
        return last + first  # Chinese names: family name first, no space
    return " ".join(part for part in (first, last) if part)


def _messages(exc: ValidationError) -> list[str]:
    if hasattr(exc, "message_dict"):
        return [message for messages in exc.message_dict.values() for message in messages]
    return list(exc.messages)
