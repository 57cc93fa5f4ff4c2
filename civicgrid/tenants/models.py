"""Tenants (cities and counties), their domains, onboarding jobs and published health.

All of these live in the public schema.
"""

import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_tenants.models import DomainMixin, TenantMixin


class Tenant(TenantMixin):
    class Level(models.TextChoices):
        PROVINCE = "province", _("Province")
        CITY = "city", _("City")
        COUNTY = "county", _("County")

    class Status(models.TextChoices):
        PROVISIONING = "provisioning", _("Provisioning")
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")

    name = models.CharField(_("name"), max_length=100)
    # GB/T 2260 administrative division code, six digits.
    division_code = models.CharField(_("division code"), max_length=6, unique=True)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children", verbose_name=_("parent")
    )
    status = models.CharField(_("status"), max_length=15, choices=Status.choices, default=Status.PROVISIONING)
    created_at = models.DateTimeField(auto_now_add=True)
    suspended_at = models.DateTimeField(null=True, blank=True)
    # The plugins switched on here, kept by plugins.actions with the Activation rows: every
    # request and task already holds this row, so hooks know the tenant's plugins without a query.
    active_plugins = ArrayField(models.CharField(max_length=60), default=list, blank=True)

    # Onboarding creates the schema itself, by cloning the template inside its
    # own transaction; saving a row must never create or migrate a schema.
    auto_create_schema = False
    auto_drop_schema = False

    class Meta:
        ordering = ["division_code"]
        verbose_name = _("tenant")
        verbose_name_plural = _("tenants")

    def __str__(self):
        return f"{self.name} ({self.division_code})"

    @property
    def is_public(self) -> bool:
        return self.schema_name == "public"

    @property
    def primary_domain(self) -> str:
        domain = self.get_primary_domain()
        return domain.domain if domain else ""


class Domain(DomainMixin):
    """A host name of a tenant. The console answers on the tenant's own hosts; a
    community's resident site on a host of its own (``xinhua.shangcheng.localhost``),
    which resolves the tenant first and then Wagtail's site for the host."""

    class Serves(models.TextChoices):
        CONSOLE = "console", _("Console and API")
        COMMUNITY_SITE = "community_site", _("Community site")

    serves = models.CharField(_("serves"), max_length=20, choices=Serves.choices, default=Serves.CONSOLE)

    class Meta:
        verbose_name = _("domain")
        verbose_name_plural = _("domains")


class OnboardingJob(models.Model):
    """One request to onboard a tenant, as the provincial admin sees it.

    Live progress is kept in the cache while the job runs (the onboarding
    transaction is not visible until it commits); the row holds the outcome.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    params = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    step = models.CharField(max_length=100, blank=True)
    error = models.TextField(blank=True)
    tenant = models.ForeignKey(Tenant, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.params.get('name', '?')} ({self.get_status_display()})"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)


class TenantHealth(models.Model):
    """Aggregates a tenant publishes about itself; never personal data."""

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="health")
    staff_count = models.PositiveIntegerField(default=0)
    active_staff_count = models.PositiveIntegerField(default=0)
    audit_entries_last_day = models.PositiveIntegerField(default=0)
    schema_size_bytes = models.BigIntegerField(default=0)
    # Outbox deliveries the relay gave up on, waiting for `civicgrid outbox retry`.
    outbox_dead_letters = models.PositiveIntegerField(default=0)
    refreshed_at = models.DateTimeField()

    def __str__(self):
        return f"{self.tenant} @ {self.refreshed_at:%Y-%m-%d %H:%M}"
