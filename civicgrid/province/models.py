"""What each tenant publishes to the province about its cases, per day: counts and sums only.

The rows live in ``public`` and are written by ``publishing.publish_daily_aggregates`` alone,
which replaces a tenant's day whole. No person, phone, address, case title or tracking
number is ever a column here: the province sees figures, and a figure's cases stay in the
tenant's own schema (``tests/province/test_publishing.py`` checks the columns).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from civicgrid.tenants.models import Tenant

# The measures, in the order pages and exports show them. Each is a count of cases (or, for
# ``rating_sum``, a sum of ratings) for one day:
#   reported          reported that day
#   accepted          accepted that day; accepted_on_time: of those, by the acceptance deadline
#   handled           handled that day; handled_on_time: of those, by the handling deadline
#   closed            closed that day
#   rated             rated that day (1-5); rating_sum: the sum of those ratings;
#                     satisfied: of those, rated 4 or 5
#   overdue_open      still open and past the deadline of its running clock at the end of
#                     the day (for today: at publication), the case's light being red
MEASURES = ("reported", "accepted", "accepted_on_time", "handled", "handled_on_time", "closed",
            "rated", "rating_sum", "satisfied", "overdue_open")


class Measures(models.Model):
    reported = models.PositiveIntegerField(_("reported"), default=0)
    accepted = models.PositiveIntegerField(_("accepted"), default=0)
    accepted_on_time = models.PositiveIntegerField(_("accepted on time"), default=0)
    handled = models.PositiveIntegerField(_("handled"), default=0)
    handled_on_time = models.PositiveIntegerField(_("handled on time"), default=0)
    closed = models.PositiveIntegerField(_("closed"), default=0)
    rated = models.PositiveIntegerField(_("rated"), default=0)
    rating_sum = models.PositiveIntegerField(_("sum of ratings"), default=0)
    satisfied = models.PositiveIntegerField(_("satisfied (rated 4-5)"), default=0)
    overdue_open = models.PositiveIntegerField(_("open and overdue"), default=0)

    class Meta:
        abstract = True


class DailyAggregate(Measures):
    """One tenant's day for one leaf category in one township (``org_unit_code`` "" for
    cases without a grid). Names are copied as the tenant had them that day, so the
    province never reads a tenant schema; codes are what it groups by."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", verbose_name=_("tenant"))
    day = models.DateField(_("day"))
    category_code = models.CharField(_("category code"), max_length=40)
    category_name = models.CharField(_("category"), max_length=100)
    category_name_en = models.CharField(max_length=100, blank=True)
    kind_code = models.CharField(_("kind code"), max_length=40, blank=True)  # the leaf's group
    kind_name = models.CharField(_("kind"), max_length=100, blank=True)
    kind_name_en = models.CharField(max_length=100, blank=True)
    org_unit_code = models.CharField(_("township code"), max_length=40, blank=True)
    org_unit_name = models.CharField(_("township"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("daily aggregate")
        verbose_name_plural = _("daily aggregates")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "day", "category_code", "org_unit_code"],
                                    name="daily_aggregate_once"),
        ]
        # A tenant's period (its breakdown by kind and township) is a range of the unique
        # index; the province reads ``DailyTotal`` instead.

    def __str__(self):
        return f"{self.tenant_id} {self.day} {self.category_code} {self.org_unit_code or '*'}"


class DailyTotal(Measures):
    """A tenant's whole day: the sum of its ``DailyAggregate`` rows, written in the same
    transaction. It also says the day was published: a day without cases has a total of
    zeros and no detail rows. The province's table, ranking, trend and map read these."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", verbose_name=_("tenant"))
    day = models.DateField(_("day"))
    published_at = models.DateTimeField(_("published"))

    class Meta:
        verbose_name = _("daily total")
        verbose_name_plural = _("daily totals")
        constraints = [models.UniqueConstraint(fields=["tenant", "day"], name="daily_total_once")]
        indexes = [models.Index(fields=["day", "tenant"], name="daily_total_day")]

    def __str__(self):
        return f"{self.tenant_id} {self.day}"


class TenantOffboarding(models.Model):
    """A tenant leaving the province: suspended at once, archived, deleted when ``due_at`` has
    passed. Once purged the row is the tombstone: the tenant row is gone, this keeps its
    code, name, when and by whom, and the archive's name and SHA-256 (``offboarding``)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Deletion pending")
        CANCELLED = "cancelled", _("Cancelled")
        PURGED = "purged", _("Deleted")

    tenant = models.ForeignKey(Tenant, null=True, blank=True, on_delete=models.SET_NULL, related_name="offboardings")
    schema_name = models.CharField(max_length=63)
    division_code = models.CharField(_("division code"), max_length=6)
    name = models.CharField(_("name"), max_length=100)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    requested_by_id = models.BigIntegerField(null=True, blank=True)  # an id, like the audit trail's
    requested_by_label = models.CharField(max_length=150, blank=True)
    requested_at = models.DateTimeField(_("requested"))
    due_at = models.DateTimeField(_("deletion due"))
    archive_name = models.CharField(_("archive"), max_length=255)
    archive_sha256 = models.CharField(_("archive SHA-256"), max_length=64)
    closed_at = models.DateTimeField(null=True, blank=True)  # cancelled or purged
    closed_by_label = models.CharField(max_length=150, blank=True)
    # What the tenant owed for plugins, kept when its statements go with the tenant row.
    billing = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-requested_at"]
        verbose_name = _("offboarding")
        verbose_name_plural = _("offboardings")
        constraints = [models.UniqueConstraint(fields=["tenant"], condition=models.Q(status="pending"),
                                               name="one_pending_offboarding_per_tenant")]
        indexes = [models.Index(fields=["status", "due_at"], name="offboarding_due")]

    def __str__(self):
        return f"{self.name} ({self.division_code}) {self.status}"
