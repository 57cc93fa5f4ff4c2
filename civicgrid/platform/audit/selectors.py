"""Reading the audit trail: who may, and the rows a page's filters choose."""

from __future__ import annotations

import datetime

from django.db.models import QuerySet
from django.utils import timezone

from civicgrid.platform.accounts.staff.models import StaffRole

from .models import AuditEntry

# The auditor reads the trail; the county admin answers for the tenant and may too.
AUDIT_READERS = (StaffRole.AUDITOR, StaffRole.COUNTY_ADMIN)


def may_read_audit(staff) -> bool:
    return bool(staff) and staff.role in AUDIT_READERS


def audit_entries(staff, *, start: datetime.date | None = None, end: datetime.date | None = None,
                  actor: str = "", action: str = "", target_type: str = "", target_id: str = "",
                  text: str = "") -> QuerySet[AuditEntry]:
    """This tenant's rows the filters choose, newest first; none for anyone else."""
    if not may_read_audit(staff):
        return AuditEntry.objects.none()
    rows = AuditEntry.objects.order_by("-id")
    if start:
        rows = rows.filter(at__gte=_midnight(start))
    if end:  # the whole of the last day
        rows = rows.filter(at__lt=_midnight(end + datetime.timedelta(days=1)))
    if actor:
        rows = rows.filter(actor_label__iexact=actor)
    if action:
        rows = rows.filter(action=action)
    if target_type:
        rows = rows.filter(target_type=target_type)
    if target_id:
        rows = rows.filter(target_id=target_id)
    if text:
        rows = rows.filter(purpose__icontains=text)
    return rows


def known_actions() -> list[str]:
    return list(AuditEntry.objects.order_by("action").values_list("action", flat=True).distinct())


def known_target_types() -> list[str]:
    return list(AuditEntry.objects.exclude(target_type="").order_by("target_type")
                .values_list("target_type", flat=True).distinct())


def _midnight(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
