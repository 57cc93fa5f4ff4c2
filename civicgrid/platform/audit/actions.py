"""Writing the audit trail. Actions call ``record``; nothing else writes audit rows."""

from __future__ import annotations

from django.db import models

from .models import AuditEntry


def record(*, action: str, actor=None, target: models.Model | None = None, purpose: str = "", **data) -> AuditEntry:
    """Append one audit row in the current schema (public for province actions)."""
    return AuditEntry.objects.create(
        actor_id=getattr(actor, "pk", None),
        actor_label=str(getattr(actor, "username", "") or "system"),
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        purpose=purpose,
        data=data,
    )
