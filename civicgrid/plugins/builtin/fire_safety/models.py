"""Fire-risk units, their checklists, inspections, answers and the hazards found."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _l
from django.utils.translation import pgettext_lazy

from civicgrid.plugins.builtin.checklists.models import ChecklistItemBase, InspectionBase, ItemResultBase


class UnitKind(models.TextChoices):
    SMALL_SHOP = "small_shop", pgettext_lazy("fire unit kind", "Small shop")
    SMALL_WORKSHOP = "small_workshop", pgettext_lazy("fire unit kind", "Small workshop")
    SMALL_LODGING = "small_lodging", pgettext_lazy("fire unit kind", "Small lodging")
    RENTAL_HOUSE = "rental_house", pgettext_lazy("fire unit kind", "Crowded rental house")
    EBIKE_CHARGING = "ebike_charging", pgettext_lazy("fire unit kind", "E-bike charging point")


class RiskLevel(models.TextChoices):
    LOW = "low", pgettext_lazy("fire risk", "Low")
    MEDIUM = "medium", pgettext_lazy("fire risk", "Medium")
    HIGH = "high", pgettext_lazy("fire risk", "High")


class RiskUnit(models.Model):
    """A place with a fire risk: 三小场所, a crowded rental house, an e-bike charging point."""

    code = models.CharField(_l("code"), max_length=40, unique=True)
    name = models.CharField(_l("name"), max_length=100)
    kind = models.CharField(_l("kind"), max_length=20, choices=UnitKind.choices)
    address = models.CharField(_l("address"), max_length=200)
    grid = models.ForeignKey("org.OrgUnit", on_delete=models.PROTECT, related_name="+", verbose_name=_l("grid"),
                             limit_choices_to={"level": "grid"})
    building = models.ForeignKey("registry.Building", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+", verbose_name=_l("building"))
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    contact_name = models.CharField(_l("contact"), max_length=50, blank=True)
    contact_phone = models.CharField(_l("contact phone"), max_length=30, blank=True)
    risk_level = models.CharField(_l("risk level"), max_length=10, choices=RiskLevel.choices, default=RiskLevel.LOW)
    risk_computed_on = models.DateField(_l("risk computed on"), null=True, blank=True)
    is_active = models.BooleanField(_l("in use"), default=True)
    source = models.CharField(_l("source"), max_length=60, default="console")  # "import:<batch>" when imported
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _l("fire-risk unit")
        verbose_name_plural = _l("fire-risk units")
        indexes = [models.Index(fields=["grid", "kind"], name="fire_unit_grid_kind"),
                   models.Index(fields=["risk_level"], name="fire_unit_risk")]

    def __str__(self):
        return f"{self.name} ({self.code})"


class CheckItem(ChecklistItemBase):
    """One line of the checklist for a kind of unit; a failure is reported under ``category_code``."""

    kind = models.CharField(_l("kind"), max_length=20, choices=UnitKind.choices)

    class Meta(ChecklistItemBase.Meta):
        verbose_name = _l("checklist item")
        indexes = [models.Index(fields=["kind", "position"], name="fire_item_kind_position")]


class Inspection(InspectionBase):
    unit = models.ForeignKey(RiskUnit, on_delete=models.PROTECT, related_name="inspections",
                             verbose_name=_l("unit"))
    grid = models.ForeignKey("org.OrgUnit", on_delete=models.PROTECT, related_name="+")  # the unit's, that day

    class Meta(InspectionBase.Meta):
        indexes = [models.Index(fields=["unit", "inspected_at"], name="fire_inspection_unit_at"),
                   models.Index(fields=["grid", "inspected_at"], name="fire_inspection_grid_at")]

    @property
    def number(self) -> str:
        return f"FI{self.pk:06d}"


class ItemResult(ItemResultBase):
    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="results")
    item = models.ForeignKey(CheckItem, on_delete=models.PROTECT, related_name="+")

    class Meta(ItemResultBase.Meta):
        indexes = [models.Index(fields=["item", "result"], name="fire_result_item")]


class Hazard(models.Model):
    """A failed item of a unit, with its case, until a later inspection finds it passing."""

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("hazard status", "Open")
        RECTIFIED = "rectified", pgettext_lazy("hazard status", "Rectified")

    unit = models.ForeignKey(RiskUnit, on_delete=models.PROTECT, related_name="hazards")
    item = models.ForeignKey(CheckItem, on_delete=models.PROTECT, related_name="+")
    found = models.OneToOneField(ItemResult, on_delete=models.PROTECT, related_name="hazard")
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    category_code = models.CharField(max_length=40)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    rectified_in = models.ForeignKey(Inspection, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    rectified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["unit", "item"], condition=Q(status="open"),
                                               name="fire_hazard_open_once")]
        indexes = [models.Index(fields=["unit", "status"], name="fire_hazard_unit_status"),
                   models.Index(fields=["case"], name="fire_hazard_case")]

    def __str__(self):
        return f"{self.unit_id}:{self.item_id} {self.status}"
