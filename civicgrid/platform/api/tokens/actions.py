"""Issuing and revoking API tokens; each writes one audit row."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.platform.accounts.selectors import staff_profile_for
from civicgrid.platform.audit.actions import record

from .models import ApiToken
from .scopes import module_area
from .selectors import scopes_here

TOKEN_PREFIX = "cgt_"
MAX_LIFETIME = timedelta(days=366)  # a year, leap day included


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(*, label: str, scopes: list[str], expires_at: datetime, acts_as, acting_user=None
                 ) -> tuple[ApiToken, str]:
    """A token for the integration ``label`` in the current tenant, acting as the staff
    account ``acts_as``; returns the row and the plain token (never shown again)."""
    label = (label or "").strip()
    errors: dict[str, list[str]] = {}
    if not label:
        errors["label"] = [_("Name the integration the token is for.")]
    unknown = sorted(set(scopes) - set(scopes_here()))
    modules = [scope for scope in unknown if scope.startswith(module_area(""))]
    if not scopes:
        errors["scopes"] = [_("Choose at least one scope.")]
    elif modules:
        errors["scopes"] = [_("No module switched on here serves these scopes: %(scopes)s.")
                            % {"scopes": ", ".join(modules)}]
    elif unknown:
        errors["scopes"] = [_("Unknown scopes: %(scopes)s.") % {"scopes": ", ".join(unknown)}]
    now = timezone.now()
    if expires_at is None or expires_at <= now:
        errors["expires_at"] = [_("The expiry must be in the future.")]
    elif expires_at - now > MAX_LIFETIME:
        errors["expires_at"] = [_("A token lives a year at most.")]
    if acts_as is None or staff_profile_for(acts_as) is None:
        errors["acts_as"] = [_("The token must act as an active staff member of this county.")]
    if errors:
        raise ValidationError(errors)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        row = ApiToken.objects.create(label=label[:100], token_hash=token_hash(token), prefix=token[:12],
                                      scopes=sorted(set(scopes)), expires_at=expires_at, acts_as=acts_as,
                                      created_by=acting_user if getattr(acting_user, "pk", None) else None)
        record(action="api_token.create", actor=acting_user, target=row, label=row.label, scopes=row.scopes,
               acts_as=acts_as.username, expires_at=expires_at.isoformat())
    return row, token


def revoke_token(*, token_id: int, acting_user=None) -> ApiToken:
    with transaction.atomic():
        row = ApiToken.objects.select_for_update().filter(pk=token_id, revoked_at__isnull=True).first()
        if row is None:
            raise ValidationError({"token": _("There is no active token with the number %(id)s.") % {"id": token_id}})
        row.revoked_at = timezone.now()
        row.save(update_fields=["revoked_at"])
        record(action="api_token.revoke", actor=acting_user, target=row, label=row.label)
    return row


def note_use(*, token: ApiToken) -> None:
    """Last used, written at most once a minute: a busy integration does not rewrite its row
    on every call."""
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
