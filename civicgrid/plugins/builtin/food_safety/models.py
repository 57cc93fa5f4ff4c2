"""Food businesses (食品经营主体), their licences, licence-expiry reminders, and the
link between a business and the cases made about it (complaints, failed inspections).

A licence is valid through ``expires_on`` (its last valid day). Its status is derived,
never stored: expired once ``expires_on`` is past, expiring when it falls within
``EXPIRING_DAYS`` days from today, valid otherwise (``selectors.with_licence_status``).
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from civicgrid.plugins.builtin.checklists.models import ChecklistItemBase, InspectionBase, ItemResultBase

EXPIRING_DAYS = 30

credit_code_validator = RegexValidator(
    r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$",
    _("A unified social credit code is 18 characters: digits and capital letters (no I, O, S, V, Z)."))
licence_number_validator = RegexValidator(
    r"^[A-Za-z0-9\-]{6,40}$", _("A licence number is 6 to 40 letters, digits or hyphens."))


class BusinessKind(models.TextChoices):
    CATERING = "catering", _("Catering service")
    SALES = "sales", _("Food sales")
    PRODUCTION = "production", _("Food production")
    WORKSHOP = "workshop", _("Small food workshop")
    VENDOR = "vendor", _("Food stall")
    PHARMACY = "pharmacy", _("Drug retail")


class LicenceStatus(models.TextChoices):
    VALID = "valid", pgettext_lazy("licence status", "Valid")
    EXPIRING = "expiring", pgettext_lazy("licence status", "Expiring within 30 days")
    EXPIRED = "expired", pgettext_lazy("licence status", "Expired")


class FoodBusiness(models.Model):
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=20, choices=BusinessKind.choices)
    address = models.CharField(_("address"), max_length=200)
    grid = models.ForeignKey("org.OrgUnit", on_delete=models.PROTECT, related_name="+", verbose_name=_("grid"),
                             limit_choices_to={"level": "grid"})
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    operator_name = models.CharField(_("operator"), max_length=60, blank=True)
    operator_phone = models.CharField(_("operator's phone"), max_length=20, blank=True)
    credit_code = models.CharField(_("unified social credit code"), max_length=18, blank=True,
                                   validators=[credit_code_validator])
    # Who keeps this record: "console", "api" or "import:<batch>".
    source = models.CharField(max_length=60, default="console")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("food business")
        verbose_name_plural = _("food businesses")
        indexes = [models.Index(fields=["grid", "kind"], name="food_business_grid_kind")]

    def __str__(self):
        return self.name


class Licence(models.Model):
    business = models.OneToOneField(FoodBusiness, on_delete=models.CASCADE, related_name="licence",
                                    verbose_name=_("business"))
    number = models.CharField(_("licence number"), max_length=40, unique=True,
                              validators=[licence_number_validator])
    issued_on = models.DateField(_("issued on"))
    expires_on = models.DateField(_("expires on"))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("licence")
        verbose_name_plural = _("licences")
        indexes = [models.Index(fields=["expires_on"], name="food_licence_expiry")]
        constraints = [models.CheckConstraint(condition=models.Q(expires_on__gte=models.F("issued_on")),
                                              name="food_licence_expires_after_issue")]

    def __str__(self):
        return self.number


class Reminder(models.Model):
    """One reminder of one licence at one threshold for one expiry date (a renewed
    licence with a new date is reminded again). The unique constraint makes "once"."""

    class Threshold(models.TextChoices):
        EXPIRING = "expiring", _("Expires within 30 days")
        EXPIRED = "expired", _("Expired")

    licence = models.ForeignKey(Licence, on_delete=models.CASCADE, related_name="reminders")
    threshold = models.CharField(max_length=10, choices=Threshold.choices)
    expires_on = models.DateField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["licence", "threshold", "expires_on"],
                                               name="food_reminded_once")]

    def __str__(self):
        return f"{self.licence_id} {self.threshold} {self.expires_on}"


class BusinessChange(models.Model):
    """The business's own history: registered, edited, licence renewed, imported."""

    business = models.ForeignKey(FoodBusiness, on_delete=models.CASCADE, related_name="changes")
    action = models.CharField(max_length=20)  # "create", "update", "import"
    fields = models.JSONField(default=list, blank=True)  # the names of what changed
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self):
        return f"{self.business_id} {self.action}"


class FoodCase(models.Model):
    """A case made about a business: a complaint, or a failed inspection item."""

    class Origin(models.TextChoices):
        COMPLAINT = "complaint", _("Complaint")
        INSPECTION = "inspection", _("Inspection")

    case = models.OneToOneField("cases.Case", on_delete=models.CASCADE, related_name="+")
    business = models.ForeignKey(FoodBusiness, on_delete=models.PROTECT, related_name="cases")
    origin = models.CharField(max_length=12, choices=Origin.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.business_id} {self.origin} {self.case_id}"


# --- inspections (on the shared checklists library) ---------------------------------------


class CheckItem(ChecklistItemBase):
    """One line of the food checklist. ``kinds`` lists the kinds of business it is asked
    of (empty: every kind); a failure is reported under ``category_code``."""

    code = models.CharField(max_length=40, unique=True)
    kinds = models.JSONField(default=list, blank=True)

    class Meta(ChecklistItemBase.Meta):
        verbose_name = _("checklist item")
        verbose_name_plural = _("checklist items")

    def applies_to(self, kind: str) -> bool:
        return not self.kinds or kind in self.kinds


class Inspection(InspectionBase):
    business = models.ForeignKey(FoodBusiness, on_delete=models.PROTECT, related_name="inspections",
                                 verbose_name=_("business"))
    grid = models.ForeignKey("org.OrgUnit", on_delete=models.PROTECT, related_name="+")  # the business's, that day

    class Meta(InspectionBase.Meta):
        verbose_name = _("inspection")
        verbose_name_plural = _("inspections")
        indexes = [models.Index(fields=["business", "inspected_at"], name="food_inspection_business_at"),
                   models.Index(fields=["grid", "inspected_at"], name="food_inspection_grid_at")]

    @property
    def number(self) -> str:
        return f"FS{self.pk:06d}"


class ItemResult(ItemResultBase):
    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="results")
    item = models.ForeignKey(CheckItem, on_delete=models.PROTECT, related_name="+")

    class Meta(ItemResultBase.Meta):
        pass


class Finding(models.Model):
    """A failed item of a business, with its case, until a later inspection finds it passing
    (the loop: inspection → case → handled → re-inspection)."""

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("finding status", "Open")
        RECTIFIED = "rectified", pgettext_lazy("finding status", "Rectified")

    business = models.ForeignKey(FoodBusiness, on_delete=models.PROTECT, related_name="findings")
    item = models.ForeignKey(CheckItem, on_delete=models.PROTECT, related_name="+")
    found = models.OneToOneField(ItemResult, on_delete=models.PROTECT, related_name="finding")
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    rectified_in = models.ForeignKey(Inspection, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    rectified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["business", "item"], condition=models.Q(status="open"),
                                               name="food_finding_open_once")]

    def __str__(self):
        return f"{self.business_id} {self.item_id} {self.status}"
