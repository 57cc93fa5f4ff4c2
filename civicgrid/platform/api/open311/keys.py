"""Open311 api_keys: one per client application, issued by a county for its own
schema. Only a SHA-256 hash is stored, so a leaked database does not leak keys;
the plain key is shown once, when it is made."""

from __future__ import annotations

import hashlib
import secrets

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.platform.audit.actions import record
from civicgrid.platform.cases.models import Open311Key


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(*, label: str, acting_user=None) -> str:
    """A new key for the client ``label`` in the current tenant; returns the plain key."""
    label = (label or "").strip()
    if not label:
        raise ValidationError({"label": _("Name the client the key is for.")})
    key = secrets.token_urlsafe(32)
    with transaction.atomic():
        row = Open311Key.objects.create(label=label[:100], key_hash=_hash(key))
        record(action="open311.key_create", actor=acting_user, target=row, label=row.label)
    return key


def revoke_key(*, key_id: int, acting_user=None) -> Open311Key:
    with transaction.atomic():
        row = Open311Key.objects.select_for_update().filter(pk=key_id, revoked_at__isnull=True).first()
        if row is None:
            raise ValidationError({"key": _("There is no active key with the number %(id)s.") % {"id": key_id}})
        row.revoked_at = timezone.now()
        row.save(update_fields=["revoked_at"])
        record(action="open311.key_revoke", actor=acting_user, target=row, label=row.label)
    return row


def key_for(key: str) -> Open311Key | None:
    """The active key row for a plain key in the current tenant, or None."""
    if not key:
        return None
    return Open311Key.objects.filter(key_hash=_hash(key), revoked_at__isnull=True).first()


def key_valid(key: str) -> bool:
    return key_for(key) is not None


def keys() -> QuerySet[Open311Key]:
    return Open311Key.objects.order_by("created_at", "pk")
