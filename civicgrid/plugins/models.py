"""The plugin catalog, activations, usage and statements. All in the public
schema: they are the province's business, and none of them holds personal data."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class Vendor(models.Model):
    """A company that ships plugins. Its accounts see its own plugins' usage and revenue."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    contact = models.CharField(_("contact"), max_length=200, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("vendor")
        verbose_name_plural = _("vendors")

    def __str__(self):
        return self.name


class VendorMember(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="vendor_membership")
    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="members")

    def __str__(self):
        return f"{self.user} @ {self.vendor}"


class CatalogEntry(models.Model):
    """A plugin this installation knows of. Discovery keeps the facts current; the
    provincial admin decides whether counties may switch it on (published)."""

    plugin_id = models.CharField(_("plugin"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    version = models.CharField(_("version"), max_length=40, blank=True)
    vendor = models.ForeignKey(Vendor, null=True, blank=True, on_delete=models.PROTECT, related_name="plugins",
                               verbose_name=_("vendor"))
    description = models.TextField(_("description"), blank=True)
    meters = models.JSONField(_("meters"), default=list)  # [{"id", "unit", "name", "name_en"}]
    installed = models.BooleanField(_("installed"), default=False)  # loaded in this installation now
    problem = models.CharField(_("problem"), max_length=500, blank=True)  # why it cannot run, if it cannot
    published = models.BooleanField(_("published"), default=False)
    for_new_tenants = models.BooleanField(_("switched on for new tenants"), default=False)
    synced_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["plugin_id"]
        verbose_name = _("catalog entry")
        verbose_name_plural = _("catalog entries")

    def __str__(self):
        return self.name or self.plugin_id

    @property
    def display_name(self) -> str:
        """The name in the reader's language (Chinese unless English is asked for and given)."""
        return self.name_en if self.name_en and (get_language() or "").startswith("en") else self.name


class Price(models.Model):
    """What one meter of a plugin costs a tenant per month, from a date on. The
    price in force on a month's last day bills that month."""

    plugin = models.ForeignKey(CatalogEntry, on_delete=models.CASCADE, related_name="prices")
    meter = models.CharField(_("meter"), max_length=60)
    unit_price = models.DecimalField(_("unit price (yuan)"), max_digits=12, decimal_places=4)
    free = models.PositiveIntegerField(_("free units per month"), default=0)
    effective_from = models.DateField(_("effective from"))
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")
    set_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["plugin", "meter", "-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["plugin", "meter", "effective_from"], name="plugin_price_once_a_day"),
            models.CheckConstraint(condition=models.Q(unit_price__gte=0), name="plugin_price_not_negative"),
        ]

    def __str__(self):
        return f"{self.plugin_id} {self.meter} {self.unit_price} from {self.effective_from}"


class Activation(models.Model):
    """A plugin switched on (or off) for a tenant. ``Tenant.active_plugins`` mirrors
    the switched-on ones so requests and tasks know them without a query."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="plugin_activations")
    plugin = models.ForeignKey(CatalogEntry, on_delete=models.PROTECT, related_name="activations")
    enabled = models.BooleanField(default=True)
    enabled_at = models.DateTimeField(null=True, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "plugin"], name="plugin_activation_once")]

    def __str__(self):
        return f"{self.plugin} @ {self.tenant_id}: {'on' if self.enabled else 'off'}"


class UsageRecord(models.Model):
    """One metered use. The key makes a repeated call count once."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.PROTECT, related_name="+")
    plugin_id = models.CharField(max_length=60)
    metric = models.CharField(max_length=60)
    quantity = models.DecimalField(max_digits=14, decimal_places=4)
    at = models.DateTimeField()
    idempotency_key = models.CharField(max_length=200)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "plugin_id", "idempotency_key"], name="usage_counted_once"),
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="usage_positive"),
        ]
        indexes = [models.Index(fields=["plugin_id", "at"], name="usage_by_plugin_time")]

    def __str__(self):
        return f"{self.plugin_id}.{self.metric} {self.quantity}"


class Statement(models.Model):
    """What a tenant owes for one plugin over one month (CNY)."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.PROTECT, related_name="+")
    plugin = models.ForeignKey(CatalogEntry, on_delete=models.PROTECT, related_name="statements")
    vendor = models.ForeignKey(Vendor, null=True, blank=True, on_delete=models.PROTECT, related_name="statements")
    period = models.DateField(_("month"))  # the first day of the month
    total = models.DecimalField(_("total (yuan)"), max_digits=14, decimal_places=2, default=Decimal("0.00"))
    currency = models.CharField(max_length=3, default="CNY")
    made_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-period", "tenant", "plugin"]
        constraints = [models.UniqueConstraint(fields=["tenant", "plugin", "period"], name="statement_once")]

    def __str__(self):
        return f"{self.plugin} {self.period:%Y-%m} {self.total} {self.currency}"


class StatementLine(models.Model):
    statement = models.ForeignKey(Statement, on_delete=models.CASCADE, related_name="lines")
    meter = models.CharField(max_length=60)
    unit = models.CharField(max_length=20, blank=True)
    quantity = models.DecimalField(max_digits=14, decimal_places=4)
    free = models.DecimalField(max_digits=14, decimal_places=4)
    billable = models.DecimalField(max_digits=14, decimal_places=4)
    unit_price = models.DecimalField(max_digits=12, decimal_places=4)
    amount = models.DecimalField(max_digits=14, decimal_places=2)

    class Meta:
        ordering = ["meter"]

    def __str__(self):
        return f"{self.meter} {self.amount}"
