"""Photos and documents on a case.

Every upload is checked and cleaned first (``files.uploads.clean_upload``:
type by content, size, pixel bombs, EXIF/GPS stripped); only when all of them pass
is anything stored, under the tenant's prefix in the default storage. Rows are
written in the caller's transaction; if it rolls back, the stored objects are
deleted again, so no orphan is left behind.

Thumbnails are made by the worker after the commit (``make_thumbnails``), so the
report does not wait for them; until one exists, pages show the photo itself and
the API a null ``thumbnail_url``. A beat job makes any the worker missed (it was
down, or the broker was).
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.platform.files.storage import save_file
from civicgrid.platform.files.uploads import CleanFile, clean_upload

from .models import Attachment, Case, CaseEvent

MAX_FILES = 9  # what a phone's picker sends at once

logger = logging.getLogger(__name__)


def clean_all(uploads) -> list[CleanFile]:
    """Every upload cleaned, or one ValidationError naming each bad file."""
    uploads = list(uploads or [])
    if len(uploads) > MAX_FILES:
        raise ValidationError({"photos": _("Attach at most %(n)d files.") % {"n": MAX_FILES}})
    cleaned, errors = [], []
    for upload in uploads:
        name = getattr(upload, "name", "") or "upload"
        try:
            cleaned.append(clean_upload(upload, name=name, thumbnail=False))
        except ValidationError as exc:
            errors.extend(f"{name}: {message}" for message in exc.messages)
    if errors:
        raise ValidationError({"photos": errors})
    return cleaned


def attach_uploads(*, case: Case, uploads, actor, event: CaseEvent | None = None) -> list[Attachment]:
    return store_clean(case=case, files=clean_all(uploads), actor=actor, event=event)


def store_clean(*, case: Case, files: list[CleanFile], actor, event: CaseEvent | None = None) -> list[Attachment]:
    """Store cleaned files and their rows. Call it last in the transaction: a failure
    here removes what it stored; objects of a transaction that fails afterwards
    (only the commit itself is left) stay as unreferenced objects under the
    case's folder, never as rows without files."""
    folder = f"cases/{timezone.localdate():%Y/%m}/{case.pk}"
    stored: list[str] = []
    attachments = []
    try:
        for item in files:
            stem = uuid.uuid4().hex
            name = save_file(f"{folder}/{stem}{item.extension}", ContentFile(item.data))
            stored.append(name)
            thumbnail = ""
            if item.thumbnail:
                thumbnail = save_file(f"{folder}/{stem}.thumb.jpg", ContentFile(item.thumbnail))
                stored.append(thumbnail)
            attachments.append(Attachment(case=case, event=event, file=name, thumbnail=thumbnail,
                                          content_type=item.content_type, kind=item.kind, size=len(item.data),
                                          original_name=item.original_name,
                                          uploaded_by=actor if getattr(actor, "pk", None) else None))
        with transaction.atomic():
            Attachment.objects.bulk_create(attachments)
    except Exception:
        _delete(stored)
        raise
    images = [a.pk for a in attachments if a.kind == "image" and not a.thumbnail]
    if images:
        transaction.on_commit(lambda: _queue_thumbnails(images))
    return attachments


def _queue_thumbnails(ids: list[int]) -> None:
    from .tasks import make_thumbnails

    try:
        # No retries: with the broker down the report must not wait; the beat job makes them later.
        make_thumbnails.apply_async(args=[ids], retry=False)
    except Exception:
        logger.warning("thumbnails of attachments %s not queued; the backfill will make them", ids)


def make_thumbnail_for(attachment: Attachment) -> bool:
    """Store the thumbnail of an image attachment that has none. Idempotent: a second
    worker on the same attachment stores nothing (the row is claimed by its update)."""
    from civicgrid.platform.files.uploads import make_thumbnail

    with default_storage.open(attachment.file, "rb") as handle:
        data = make_thumbnail(handle.read())
    stem = attachment.file.rsplit(".", 1)[0]
    name = save_file(f"{stem}.thumb.jpg", ContentFile(data))
    claimed = Attachment.objects.filter(pk=attachment.pk, thumbnail="").update(thumbnail=name)
    if not claimed:
        _delete([name])
    return bool(claimed)


BACKFILL_DAYS = 7  # a photo that still has no thumbnail after a week cannot be read: stop trying


def missing_thumbnails(*, older_than_seconds: int = 0, limit: int = 500):
    """Image attachments of the last week still without a thumbnail, oldest first."""
    now = timezone.now()
    return (Attachment.objects.filter(kind="image", thumbnail="", created_at__lte=now - timedelta(
        seconds=older_than_seconds), created_at__gte=now - timedelta(days=BACKFILL_DAYS))
            .order_by("created_at")[:limit])


def _delete(names: list[str]) -> None:
    for name in names:
        try:
            default_storage.delete(name)
        except Exception:  # best effort: an unreferenced object is harmless, a crash here is not
            pass
