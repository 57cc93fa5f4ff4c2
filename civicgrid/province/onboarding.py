"""Onboarding, suspending and resuming tenants: the province's actions on them.

They live here, above the domain apps, because onboarding creates the county
admin (accounts), writes audit rows (audit) and runs the steps named in
``CIVICGRID_ONBOARDING_STEPS`` (care kinds, categories, plugins). The tenancy
foundation they build on (models, schema cloning, validation, progress) is
``civicgrid.tenants``, which imports nothing from here.

``onboard_tenant`` is one transaction. PostgreSQL DDL is transactional, so
the cloned schema, the tenant row, its domain, the county admin and whatever
the onboarding steps wrote all commit together or vanish together: a failure
at any step leaves nothing behind.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from civicgrid.platform.accounts.models import User
from civicgrid.platform.accounts.staff.models import StaffProfile, StaffRole
from civicgrid.platform.audit.actions import record
from civicgrid.tenants import progress as job_progress
from civicgrid.tenants.models import Domain, OnboardingJob, Tenant
from civicgrid.tenants.schemas import TemplateBehind, clone_template, ensure_template_current
from civicgrid.tenants.validation import schema_for_domain, validate_onboarding

logger = logging.getLogger(__name__)

# Progress callbacks get (done, total, step); step is an untranslated label
# (a msgid), so whoever shows it translates it into the viewer's language.
Progress = Callable[[int, int, str], None]


class OnboardingRefused(Exception):
    """The request cannot go ahead; ``errors`` says why, by field."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__("; ".join(m for messages in errors.values() for m in messages))


class OnboardingFailed(Exception):
    """A step failed; everything it had done was rolled back."""

    def __init__(self, step: str, cause: BaseException):
        self.step = step
        self.cause = cause
        super().__init__(_("Onboarding failed while %(step)s: %(cause)s") % {"step": _(step), "cause": cause})


@dataclass
class OnboardingResult:
    tenant: Tenant
    created: bool
    admin_username: str
    admin_password: str | None  # only when generated here, to be shown once


def onboarding_steps() -> list[Callable[..., None]]:
    return [import_string(path) for path in settings.CIVICGRID_ONBOARDING_STEPS]


def _existing_identical(*, name, division_code, level, domain) -> Tenant | None:
    tenant = Tenant.objects.filter(division_code=division_code, level=level, name=name).first()
    if tenant and tenant.domains.filter(domain=domain).exists() and tenant.status != Tenant.Status.PROVISIONING:
        return tenant
    return None


def onboard_tenant(
    *,
    name: str,
    division_code: str,
    level: str,
    domain: str,
    parent_code: str | None = None,
    admin_username: str | None = None,
    admin_password: str | None = None,
    admin_password_hash: str | None = None,
    acting_user: User | None,
    progress: Progress | None = None,
) -> OnboardingResult:
    name, division_code, domain = name.strip(), division_code.strip(), domain.strip().lower()
    parent_code = (parent_code or "").strip() or None
    schema_name = schema_for_domain(domain)
    admin_username = admin_username or f"{schema_name}_admin"
    steps = onboarding_steps()
    total = 6 + len(steps)
    report = progress or (lambda done, total, step: None)

    connection.set_schema_to_public()
    report(0, total, gettext_noop("checking the request"))
    existing = _existing_identical(name=name, division_code=division_code, level=level, domain=domain)
    if existing is not None:
        report(total, total, gettext_noop("already onboarded"))
        return OnboardingResult(existing, created=False, admin_username=admin_username, admin_password=None)

    errors = validate_onboarding(
        name=name, division_code=division_code, level=level, domain=domain, parent_code=parent_code,
        schema_name=schema_name,
    )
    if User.objects.filter(username=admin_username).exists():
        errors.setdefault("admin_username", []).append(
            _("The user name %(username)s is already taken.") % {"username": admin_username}
        )
    if errors:
        raise OnboardingRefused(errors)

    report(1, total, gettext_noop("checking the template schema"))
    try:
        ensure_template_current()
    except TemplateBehind as exc:
        raise OnboardingRefused({"__all__": [_("The template schema is behind; run `civicgrid migrate` first. (%(detail)s)") % {"detail": exc}]}) from exc

    generated_password = None
    if not (admin_password or admin_password_hash):
        generated_password = admin_password = secrets.token_urlsafe(12)
    password_hash = admin_password_hash or make_password(admin_password)

    step = gettext_noop("creating the tenant record")
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"onboard:{division_code}"])
            parent = Tenant.objects.get(division_code=parent_code) if parent_code else None
            report(2, total, step)
            tenant = Tenant.objects.create(
                schema_name=schema_name, name=name, division_code=division_code, level=level, parent=parent,
                status=Tenant.Status.PROVISIONING,
            )
            step = gettext_noop("cloning the template schema")
            report(3, total, step)
            clone_template(schema_name)

            step = gettext_noop("creating the domain")
            report(4, total, step)
            Domain.objects.create(domain=domain, tenant=tenant, is_primary=True)

            step = gettext_noop("creating the county admin")
            report(5, total, step)
            admin = User.objects.create(
                username=admin_username, password=password_hash, home_tenant=tenant,
                full_name=_("%(name)s administrator") % {"name": name},
            )
            connection.set_tenant(tenant)
            StaffProfile.objects.create(user=admin, role=StaffRole.COUNTY_ADMIN)
            record(action="tenant.created", actor=acting_user, target=tenant, admin=admin_username)

            for index, run_step in enumerate(steps, start=6):
                step = (run_step.__doc__ or run_step.__name__).strip().splitlines()[0]
                report(index, total, step)
                run_step(tenant=tenant, acting_user=acting_user)

            step = gettext_noop("activating")
            connection.set_schema_to_public()
            tenant.status = Tenant.Status.ACTIVE
            tenant.save(update_fields=["status"])
            record(action="tenant.onboarded", actor=acting_user, target=tenant, domain=domain)
            # The province page shows the new tenant's figures without waiting for beat;
            # robust: a broker that is down must not undo an onboarding that committed.
            transaction.on_commit(lambda: queue_health_refresh(schema_name), robust=True)
    except IntegrityError as exc:
        connection.set_schema_to_public()
        raise OnboardingRefused({"__all__": [_("Another onboarding took this division code, domain or user name at the same time.")]}) from exc
    except Exception as exc:
        connection.set_schema_to_public()
        logger.exception("onboarding %s failed while %s", division_code, step)
        raise OnboardingFailed(step, exc) from exc
    connection.set_schema_to_public()
    report(total, total, gettext_noop("done"))
    return OnboardingResult(tenant, created=True, admin_username=admin_username, admin_password=generated_password)


def queue_health_refresh(schema_name: str) -> None:
    """Queue the tenant's health refresh, sent from its schema (so the task runs there)."""
    from django_tenants.utils import schema_context

    from .tasks import refresh_tenant_health

    with schema_context(schema_name):
        refresh_tenant_health.delay()


# --- jobs: the queued form of onboarding the province page and API use -----------


def request_onboarding(*, params: dict, acting_user: User | None) -> OnboardingJob:
    """Validate now (so the form can answer at once), then queue the work."""
    clean = {k: (v or "").strip() if isinstance(v, str) else v for k, v in params.items()}
    clean["domain"] = clean.get("domain", "").lower()
    errors = validate_onboarding(
        name=clean.get("name", ""), division_code=clean.get("division_code", ""), level=clean.get("level", ""),
        domain=clean["domain"], parent_code=clean.get("parent_code") or None,
        schema_name=schema_for_domain(clean["domain"]),
    )
    if errors:
        raise OnboardingRefused(errors)
    password = clean.pop("admin_password", "") or ""
    if password:
        clean["admin_password_hash"] = make_password(password)
    connection.set_schema_to_public()
    with transaction.atomic():
        job = OnboardingJob.objects.create(requested_by=acting_user, params=clean)
        record(action="tenant.onboarding_requested", actor=acting_user, target=job, division_code=clean["division_code"])
        transaction.on_commit(lambda: send_onboarding(job.pk))
    return job


def send_onboarding(job_id) -> None:
    """Ask a worker to run a queued job. With the broker down (or a Redis that lost its
    queue) the job stays queued and beat's ``resend_queued_onboarding`` sends it again; a
    second run of a job returns the tenant the first one made."""
    from .tasks import run_onboarding_job

    try:
        run_onboarding_job.apply_async(args=[str(job_id)], retry=False)
    except Exception:  # the page answers "queued" all the same: the job is kept
        logger.warning("onboarding job %s: the broker is unavailable; sent again later", job_id, exc_info=True)


def run_onboarding_job(*, job: OnboardingJob, progress: Progress | None = None) -> OnboardingJob:
    """Carry out a queued job. Running a finished job again does nothing."""
    if job.is_finished:
        return job
    job.status = OnboardingJob.Status.RUNNING
    job.save(update_fields=["status"])

    def report(done, total, step):
        job_progress.publish(job.pk, done=done, total=total, step=str(step))
        if progress:
            progress(done, total, step)

    params = dict(job.params)
    try:
        result = onboard_tenant(**params, acting_user=job.requested_by, progress=report)
    except (OnboardingRefused, OnboardingFailed) as exc:
        job.status = OnboardingJob.Status.FAILED
        job.error = str(exc)
        job.step = getattr(exc, "step", "")
    else:
        job.status = OnboardingJob.Status.SUCCEEDED
        job.tenant = result.tenant
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "error", "step", "tenant", "finished_at"])
    return job


def suspend_tenant(*, tenant: Tenant, acting_user: User | None, reason: str = "") -> Tenant:
    connection.set_schema_to_public()
    with transaction.atomic():
        tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)
        if tenant.status != Tenant.Status.SUSPENDED:
            tenant.status = Tenant.Status.SUSPENDED
            tenant.suspended_at = timezone.now()
            tenant.save(update_fields=["status", "suspended_at"])
            record(action="tenant.suspended", actor=acting_user, target=tenant, reason=reason)
    return tenant


def resume_tenant(*, tenant: Tenant, acting_user: User | None) -> Tenant:
    connection.set_schema_to_public()
    with transaction.atomic():
        tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)
        if tenant.status == Tenant.Status.SUSPENDED:
            tenant.status = Tenant.Status.ACTIVE
            tenant.suspended_at = None
            tenant.save(update_fields=["status", "suspended_at"])
            record(action="tenant.resumed", actor=acting_user, target=tenant)
        # Resuming during an offboarding's grace period cancels the deletion.
        from .offboarding import cancel_pending

        cancel_pending(tenant=tenant, acting_user=acting_user)
    return tenant


def ensure_province(*, name: str, division_code: str, domain: str, acting_user: User | None = None) -> Tenant:
    """The public schema's own tenant row and domain, so the base domain serves the province site."""
    connection.set_schema_to_public()
    with transaction.atomic():
        province, created = Tenant.objects.get_or_create(
            schema_name="public",
            defaults={"name": name, "division_code": division_code, "level": Tenant.Level.PROVINCE,
                      "status": Tenant.Status.ACTIVE},
        )
        Domain.objects.get_or_create(domain=domain, defaults={"tenant": province, "is_primary": True})
        if created:
            record(action="province.created", actor=acting_user, target=province, domain=domain)
    return province
