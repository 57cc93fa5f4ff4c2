"""Residents confirm their phone with a one-time code before they report or vote.

The code (six digits) goes out through the notification channels that can text a
number (``send_code``, e.g. an SMS plugin); with none, and only where
``CIVICGRID_LOG_PHONE_CODES`` is on (the demo, the tests), it is written to the server
log. Codes are stored as keyed hashes, live ten minutes and allow five guesses. A
confirmed phone is kept in the resident's session for half an hour, encrypted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import time
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.platform.registry import protection
from civicgrid.platform.registry.identity import normalise_phone
from civicgrid.plugins.channels import send_code_to_phone

from .models import PhoneCode

logger = logging.getLogger(__name__)

CODE_LIFETIME = timedelta(minutes=10)
MAX_GUESSES = 5
CONFIRMED_SECONDS = 30 * 60
SESSION_KEY = "cms_confirmed_phone"


def _hash(code: str, phone_index: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), f"{phone_index}:{code}".encode(), hashlib.sha256).hexdigest()


def phone_number(raw: str) -> str:
    """The phone in its one spelling, or ValidationError in the resident's language."""
    try:
        return normalise_phone((raw or "").strip())
    except ValidationError as exc:
        raise ValidationError({"phone": exc.messages}) from exc


def send_code(*, phone: str, site) -> PhoneCode:
    """A new code for ``phone`` (normalised), sent; earlier unused codes stop working."""
    index = protection.blind_index(phone, "phone")
    code = f"{secrets.randbelow(10 ** 6):06d}"
    PhoneCode.objects.filter(phone_index=index, site=site, confirmed_at__isnull=True).delete()
    row = PhoneCode.objects.create(phone_index=index, code_hash=_hash(code, index), site=site,
                                   expires_at=timezone.now() + CODE_LIFETIME)
    text = _("Your confirmation code for %(site)s is %(code)s. It is valid for 10 minutes.") % {
        "site": site.site_name, "code": code}
    if send_code_to_phone(phone=phone, text=text, reference=f"{connection.schema_name}-code-{row.pk}"):
        return row
    if settings.CIVICGRID_LOG_PHONE_CODES:
        logger.warning("one-time code for %s on %s: %s (no SMS channel: shown here for the demo)",
                       protection.mask_phone(phone), site.hostname, code)
        return row
    row.delete()
    raise ValidationError({"phone": [_("Codes cannot be sent by text message here yet; please call the community office.")]})


def confirm(*, phone: str, code: str, site, session) -> None:
    """Check the code; on success the session holds the confirmed phone. A wrong code
    counts against the code's guesses (and is saved even though this raises)."""
    index = protection.blind_index(phone, "phone")
    row = (PhoneCode.objects.filter(phone_index=index, site=site, confirmed_at__isnull=True,
                                    expires_at__gt=timezone.now()).order_by("-created_at").first())
    wrong = ValidationError({"code": [_("The code is wrong or has expired. Ask for a new one.")]})
    if row is None or row.attempts >= MAX_GUESSES:
        raise wrong
    if not hmac.compare_digest(row.code_hash, _hash((code or "").strip(), index)):
        PhoneCode.objects.filter(pk=row.pk).update(attempts=row.attempts + 1)
        raise wrong
    PhoneCode.objects.filter(pk=row.pk).update(confirmed_at=timezone.now())
    session[SESSION_KEY] = {
        "schema": connection.schema_name,
        "site": site.pk,
        "phone": base64.b64encode(protection.encrypt(phone)).decode(),
        "until": time.time() + CONFIRMED_SECONDS,
    }


def confirmed_phone(request, site) -> str | None:
    """The phone this resident confirmed on this site in the last half hour, or None."""
    held = request.session.get(SESSION_KEY)
    if not held or held.get("schema") != connection.schema_name or held.get("site") != site.pk:
        return None
    if held.get("until", 0) < time.time():
        return None
    try:
        return protection.decrypt(base64.b64decode(held["phone"]))
    except Exception:  # a key rotated or a tampered session: confirm again
        return None


def forget(request) -> None:
    request.session.pop(SESSION_KEY, None)
