"""Offboarding a tenant: suspend at once, archive, delete after a grace period.

``offboard_tenant`` suspends the tenant (nobody signs in, no beat job runs for it), writes
an archive to the backup location and records when deletion is due. Until then,
resuming the tenant cancels it (``onboarding.resume_tenant`` calls ``cancel_pending``).
``purge_due`` (a beat job, or ``civicgrid tenants purge-due``) deletes what is due: the
search documents, the files, then in one transaction the tenant's accounts, domains,
schema and row; the offboarding row stays as the tombstone, and the audit rows in
``public`` (offboard.start, offboard.export, offboard.purge) stay with it.

A purge first checks the archive is still there and unchanged: the only copy of a
county's data is never deleted on the strength of an archive that is gone.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tenants.utils import tenant_context

from civicgrid.platform.accounts.models import User
from civicgrid.platform.audit.actions import record
from civicgrid.platform.audit.anchors import forget as forget_anchors
from civicgrid.plugins.models import Statement, UsageRecord
from civicgrid.search.backends import backend
from civicgrid.tenants.models import Domain, Tenant
from civicgrid.tenants.schemas import drop_schema

from . import archive as arc
from .lifecycle import Progress, backup_dir, backup_tenant
from .models import TenantOffboarding

logger = logging.getLogger(__name__)

DEFAULT_GRACE_DAYS = 30
MAX_GRACE_DAYS = 3650


class OffboardingRefused(Exception):
    """Offboarding or purging cannot go ahead; the message says why. Nothing was deleted."""


def _label(user) -> str:
    return str(getattr(user, "username", "") or "system")


def _check_offboardable(tenant: Tenant, grace_days: int) -> None:
    connection.set_schema_to_public()
    if tenant.is_public:
        raise OffboardingRefused(_("The province itself cannot be offboarded."))
    if not 0 <= grace_days <= MAX_GRACE_DAYS:
        raise OffboardingRefused(_("The grace period is between 0 and %(max)d days.") % {"max": MAX_GRACE_DAYS})
    if Tenant.objects.filter(parent=tenant).exists():
        raise OffboardingRefused(_("%(name)s still has counties; offboard them first.") % {"name": tenant.name})
    if TenantOffboarding.objects.filter(tenant=tenant, status=TenantOffboarding.Status.PENDING).exists():
        raise OffboardingRefused(_("%(name)s is already being offboarded.") % {"name": tenant.name})


def offboard_tenant(*, tenant: Tenant, grace_days: int, acting_user: User | None, reason: str = "",
                    progress: Progress | None = None) -> TenantOffboarding:
    from .onboarding import suspend_tenant

    connection.set_schema_to_public()
    _check_offboardable(tenant, grace_days)
    tenant = suspend_tenant(tenant=tenant, acting_user=acting_user, reason=reason or "offboarding")
    with transaction.atomic():
        record(action="offboard.start", actor=acting_user, target=tenant, grace_days=grace_days, reason=reason)
    # Suspended first, so the archive is the tenant's last state: nothing changes after it.
    try:
        exported = backup_tenant(tenant=tenant, acting_user=acting_user, progress=progress,
                                 audit_action="offboard.export")
    except arc.ArchiveError as exc:
        raise OffboardingRefused(_("The archive could not be written, so nothing will be deleted "
                                   "(the tenant stays suspended): %(detail)s") % {"detail": exc}) from exc
    now = timezone.now()
    with transaction.atomic():
        return TenantOffboarding.objects.create(
            tenant=tenant, schema_name=tenant.schema_name, division_code=tenant.division_code, name=tenant.name,
            reason=reason[:500], requested_by_id=getattr(acting_user, "pk", None),
            requested_by_label=_label(acting_user), requested_at=now, due_at=now + timedelta(days=grace_days),
            archive_name=exported.path.name, archive_sha256=exported.sha256)


def request_offboarding(*, tenant: Tenant, grace_days: int, acting_user: User | None,
                        reason: str = "") -> Tenant:
    """The province page's form: suspend now (the tenant is out of service as the admin
    clicks), then archive and record the due date in a task, whose progress the page shows."""
    from .onboarding import suspend_tenant
    from .tasks import run_offboarding

    _check_offboardable(tenant, grace_days)
    with transaction.atomic():
        tenant = suspend_tenant(tenant=tenant, acting_user=acting_user, reason=reason or "offboarding")
        user_id = getattr(acting_user, "pk", None)
        transaction.on_commit(lambda: run_offboarding.delay(tenant.pk, grace_days, reason, user_id))
    return tenant


def progress_key(tenant: Tenant) -> str:
    return f"offboarding:{tenant.pk}"


def cancel_pending(*, tenant: Tenant, acting_user: User | None) -> TenantOffboarding | None:
    """Called inside ``resume_tenant``'s transaction: a resumed tenant is not deleted."""
    pending = (TenantOffboarding.objects.select_for_update()
               .filter(tenant=tenant, status=TenantOffboarding.Status.PENDING).first())
    if pending is None:
        return None
    pending.status = TenantOffboarding.Status.CANCELLED
    pending.closed_at, pending.closed_by_label = timezone.now(), _label(acting_user)
    pending.save(update_fields=["status", "closed_at", "closed_by_label"])
    record(action="offboard.cancel", actor=acting_user, target=tenant, archive=pending.archive_name)
    return pending


def due_offboardings(now=None):
    return TenantOffboarding.objects.filter(status=TenantOffboarding.Status.PENDING,
                                            due_at__lte=now or timezone.now()).order_by("due_at")


def purge_due(*, acting_user: User | None, now=None) -> list[TenantOffboarding]:
    """Purge every tenant whose grace period is over; one failing does not stop the others."""
    connection.set_schema_to_public()
    purged = []
    for pending in due_offboardings(now):
        try:
            purged.append(purge_tenant(offboarding=pending, acting_user=acting_user, now=now))
        except Exception:  # noqa: BLE001 -- one tenant's failure (rolled back) must not hold up the rest
            logger.exception("purging %s failed; it stays pending", pending.schema_name)
    return purged


def purge_tenant(*, offboarding: TenantOffboarding, acting_user: User | None, now=None) -> TenantOffboarding:
    connection.set_schema_to_public()
    tenant = offboarding.tenant
    if offboarding.status != TenantOffboarding.Status.PENDING or tenant is None:
        raise OffboardingRefused(_("This offboarding is not pending."))
    if offboarding.due_at > (now or timezone.now()):
        raise OffboardingRefused(_("The grace period runs until %(due)s.") % {"due": offboarding.due_at})
    if tenant.status != Tenant.Status.SUSPENDED:
        raise OffboardingRefused(_("%(name)s is in service again; it is not deleted.") % {"name": tenant.name})
    archive_path = backup_dir() / offboarding.archive_name
    if not archive_path.is_file() or arc.sha256_of(archive_path) != offboarding.archive_sha256:
        raise OffboardingRefused(_("The archive %(archive)s is missing or changed; nothing is deleted.")
                                 % {"archive": offboarding.archive_name})
    schema = tenant.schema_name
    # Outside the schema and outside any transaction, so first: a failure here leaves the
    # offboarding pending (the archive holds everything), and the next run finishes it.
    backend().drop_tenant(schema)
    files = _delete_files(tenant)
    with transaction.atomic():
        offboarding = TenantOffboarding.objects.select_for_update().get(pk=offboarding.pk)
        tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)
        with tenant_context(tenant):
            # In the schema: deleting an account also deletes its staff profile there.
            users = list(User.objects.filter(home_tenant=tenant).values_list("username", flat=True))
            User.objects.filter(home_tenant=tenant).delete()
        connection.set_schema_to_public()
        offboarding.billing = _billing_of(tenant)
        UsageRecord.objects.filter(tenant=tenant).delete()
        Statement.objects.filter(tenant=tenant).delete()
        Domain.objects.filter(tenant=tenant).delete()
        with connection.cursor() as cursor:
            # The deferred checks of the rows deleted above run now: a schema with pending
            # trigger events cannot be dropped in the same transaction.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        drop_schema(schema)
        forget_anchors(schema)  # a tenant given this schema name later starts a chain of its own
        tenant.delete()
        offboarding.status = TenantOffboarding.Status.PURGED
        offboarding.closed_at, offboarding.closed_by_label = timezone.now(), _label(acting_user)
        offboarding.save(update_fields=["status", "closed_at", "closed_by_label", "billing"])
        record(action="offboard.purge", actor=acting_user, target=offboarding, schema=schema,
               division_code=offboarding.division_code, archive=offboarding.archive_name,
               sha256=offboarding.archive_sha256, files=files, accounts=len(users))
    return offboarding


def _delete_files(tenant: Tenant) -> int:
    from django.core.files.storage import default_storage

    with tenant_context(tenant):
        names = list(arc.walk_storage(default_storage))
        for name in names:
            default_storage.delete(name)
    connection.set_schema_to_public()
    return len(names)


def _billing_of(tenant: Tenant) -> list[dict]:
    return [{"plugin": s.plugin_id, "vendor": s.vendor_id, "period": s.period.isoformat(), "total": str(s.total),
             "currency": s.currency,
             "lines": [{"meter": line.meter, "quantity": str(line.quantity), "billable": str(line.billable),
                        "unit_price": str(line.unit_price)} for line in s.lines.all()]}
            for s in Statement.objects.filter(tenant=tenant).prefetch_related("lines").order_by("period", "plugin")]


__all__ = ["DEFAULT_GRACE_DAYS", "OffboardingRefused", "cancel_pending", "due_offboardings", "offboard_tenant",
           "progress_key", "purge_due", "purge_tenant", "request_offboarding"]
