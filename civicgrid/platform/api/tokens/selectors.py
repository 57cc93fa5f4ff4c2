from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from .models import ApiToken


def tokens() -> QuerySet[ApiToken]:
    return ApiToken.objects.select_related("acts_as").order_by("-created_at", "-pk")


def usable_token(token_hash: str) -> ApiToken | None:
    """The token with this hash in the current tenant, if neither revoked nor expired."""
    return (ApiToken.objects.select_related("acts_as")
            .filter(token_hash=token_hash, revoked_at__isnull=True, expires_at__gt=timezone.now()).first())
