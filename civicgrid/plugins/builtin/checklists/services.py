"""Reading a submitted checklist and storing an inspection once (see the package's docstring)."""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.platform.files.uploads import CleanFile, clean_upload

from .models import Answer, Outcome

# A key the device made (a UUID); anything else is refused before it reaches an action.
CLIENT_KEY = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
MAX_NOTE = 500


@dataclass
class ItemAnswer:
    item: object  # the module's checklist item
    result: str
    note: str = ""
    photo: CleanFile | None = None


@dataclass
class Submission:
    answers: list[ItemAnswer]
    latitude: Decimal | None
    longitude: Decimal | None
    note: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def outcome(self) -> str:
        return Outcome.FAILED if self.failed else Outcome.PASSED

    @property
    def failed(self) -> list[ItemAnswer]:
        return [answer for answer in self.answers if answer.result == Answer.FAIL]


def field_name(item, suffix: str = "") -> str:
    return f"item-{item.pk}{'-' + suffix if suffix else ''}"


def client_key(request, data=None) -> str:
    """The device's key: the ``Idempotency-Key`` header (the phone's script), else the form's
    ``client_key`` field (the hidden key the phone form carries from ``form_rows``, so a plain
    POST sent twice is one inspection); "" when neither."""
    key = (request.headers.get("Idempotency-Key") or "").strip()
    if not key:
        source = data if data is not None else request.POST
        key = str(source.get("client_key") or "").strip()
    return key


def check_key(key: str, *, required: bool = True) -> str:
    if not key and not required:
        return ""
    if not CLIENT_KEY.fullmatch(key or ""):
        raise ValidationError({"client_key": _("The inspection carries no valid key (8 to 64 letters, digits, - or _); "
                                               "it was not stored.")})
    return key


def _text(data, name: str, errors: dict, *, limit: int = MAX_NOTE) -> str:
    value = data.get(name)
    value = "" if value is None else str(value)
    if "\x00" in value:
        errors[name] = [_("The text contains a NUL character.")]
        return ""
    value = value.strip()
    if len(value) > limit:
        errors[name] = [_("At most %(n)d characters.") % {"n": limit}]
    return value


def _coordinate(data, name: str, errors: dict, low: int, high: int) -> Decimal | None:
    raw = data.get(name)
    raw = "" if raw is None else str(raw).strip()
    if not raw:
        return None
    try:
        value = float(raw)
        if not math.isfinite(value) or not low <= value <= high:
            raise ValueError
    except ValueError:
        errors["location"] = [_("The position is not a valid latitude and longitude.")]
        return None
    return Decimal(str(round(value, 6)))


def read_location(data, *, required: bool = True) -> tuple[Decimal | None, Decimal | None]:
    errors: dict = {}
    latitude = _coordinate(data, "latitude", errors, -90, 90)
    longitude = _coordinate(data, "longitude", errors, -180, 180)
    if not errors and (latitude is None) != (longitude is None):
        errors["location"] = [_("Give both latitude and longitude, or neither.")]
    if not errors and required and latitude is None:
        errors["location"] = [_("The position is missing: allow the phone to find it and try again.")]
    if errors:
        raise ValidationError(errors)
    return latitude, longitude


# Sent only by the phone form as shown without its script (the field is made visible there and
# taken away by the script): the phone cannot add its position then, so a position the person
# typed is taken and none is allowed. With the script the position comes from the phone (GPS)
# and stays required.
WITHOUT_SCRIPT = "without_script"


def read_submission(items: Iterable, data, files, *, location_required: bool = True) -> Submission:
    """Every item answered, a photo for each failed one (checked and re-encoded), a valid
    position (optional when the form says it was sent ``without_script``), no NUL bytes; else
    one ValidationError naming every problem by field."""
    items = list(items)
    if str(data.get(WITHOUT_SCRIPT) or "") == "1":
        location_required = False
    errors: dict[str, list[str]] = {}
    if not items:
        errors["__all__"] = [_("This checklist has no items.")]
    answers = []
    for item in items:
        name = field_name(item)
        result = str(data.get(name) or "").strip()
        note = _text(data, field_name(item, "note"), errors)
        if result not in Answer.values:
            errors[name] = [_("Answer this item: pass, fail or not applicable.")]
            continue
        photo = None
        upload = files.get(field_name(item, "photo")) if files is not None else None
        if result == Answer.FAIL:
            if not upload:
                errors[field_name(item, "photo")] = [_("Take a photo of what failed.")]
                continue
            try:
                photo = clean_upload(upload, name=getattr(upload, "name", "") or "photo")
            except ValidationError as exc:
                errors[field_name(item, "photo")] = list(exc.messages)
                continue
            if photo.kind != "image":
                errors[field_name(item, "photo")] = [_("Attach a photo (JPEG, PNG or WebP).")]
                continue
        answers.append(ItemAnswer(item=item, result=result, note=note, photo=photo))
    note = _text(data, "note", errors, limit=2000)
    try:
        latitude, longitude = read_location(data, required=location_required)
    except ValidationError as exc:
        errors.update(exc.message_dict)
        latitude = longitude = None
    if errors:
        raise ValidationError(errors)
    return Submission(answers=answers, latitude=latitude, longitude=longitude, note=note)


def record_once(model, *, inspector, client_key: str, create: Callable[[], object]) -> tuple[object, bool]:
    """``(create(), True)``, or ``(earlier, False)`` when ``inspector`` already sent ``client_key``.
    Call it inside the action's transaction; ``create`` runs in a savepoint, so the same key
    arriving twice at once makes one inspection (the second waits on the unique key, fails,
    and answers with the first)."""
    if client_key:
        earlier = model.objects.filter(inspected_by=inspector, client_key=client_key).first()
        if earlier is not None:
            return earlier, False
    try:
        with transaction.atomic():
            return create(), True
    except IntegrityError:
        earlier = model.objects.filter(inspected_by=inspector, client_key=client_key).first() if client_key else None
        if earlier is None:
            raise
        return earlier, False


def store_photo(photo: CleanFile, *, folder: str) -> str:
    """Store a cleaned photo under the tenant's prefix; its storage name. (An object stored by a
    transaction that then fails stays as an unreferenced object, never a row without a file.)"""
    return default_storage.save(f"{folder}/{timezone.localdate():%Y/%m}/{uuid.uuid4().hex}{photo.extension}",
                                ContentFile(photo.data))


def store_results(result_model, *, inspection, submission: Submission, folder: str, **links) -> list:
    """One result row per answer (with its photo stored), linked to ``inspection`` by the
    model's ``inspection`` field and to its item by ``item``."""
    rows = []
    for answer in submission.answers:
        rows.append(result_model(
            inspection=inspection, item=answer.item, result=answer.result, note=answer.note,
            photo=store_photo(answer.photo, folder=folder) if answer.photo else "",
            item_text=answer.item.text, category_code=answer.item.category_code, **links))
    return result_model.objects.bulk_create(rows)


def photo_upload(answer: ItemAnswer) -> ContentFile | None:
    """The answer's cleaned photo as an upload, for ``report_case(photos=...)``."""
    if answer.photo is None:
        return None
    return ContentFile(answer.photo.data, name=f"photo{answer.photo.extension}")


class FormRows(list):
    """The rows of ``form_rows``, with what the form needs once: ``client_key`` (the hidden key
    of a form sent without script) and the ``latitude``/``longitude`` sent before."""

    client_key: str = ""
    latitude: str = ""
    longitude: str = ""


def new_form_key(data=None) -> str:
    """The key a phone form carries: the one it was sent with when it is shown again (nothing
    was stored then, and the same inspection sent again stays one), else a new UUID."""
    sent = str((data or {}).get("client_key") or "").strip()
    return sent if CLIENT_KEY.fullmatch(sent) else str(uuid.uuid4())


def form_rows(items: Iterable, data=None, errors: dict | None = None) -> FormRows:
    """What the phone form's template needs per item: its field names, the answer given and
    the problems found (the form is shown again with them when sent without script); and, on
    the list, the form's ``client_key`` made now and the position sent before."""
    data, errors = data or {}, errors or {}
    rows = FormRows()
    rows.client_key = new_form_key(data)
    rows.latitude = str(data.get("latitude") or "").strip()[:20]
    rows.longitude = str(data.get("longitude") or "").strip()[:20]
    for item in items:
        name = field_name(item)
        rows.append({
            "item": item, "name": name, "note_name": field_name(item, "note"), "photo_name": field_name(item, "photo"),
            "value": str(data.get(name) or ""), "note": str(data.get(field_name(item, "note")) or ""),
            "errors": errors.get(name, []) + errors.get(field_name(item, "note"), []),
            "photo_errors": errors.get(field_name(item, "photo"), []),
        })
    return rows


def message_dict(error: ValidationError) -> dict[str, list[str]]:
    raw = error.message_dict if hasattr(error, "error_dict") else {"__all__": error.messages}
    return {name: [str(message) for message in messages] for name, messages in raw.items()}
