"""Abstract models for checklists, inspections and their answers (see the package's docstring)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _l
from django.utils.translation import pgettext_lazy


class Answer(models.TextChoices):
    PASS = "pass", pgettext_lazy("checklist answer", "Pass")
    FAIL = "fail", pgettext_lazy("checklist answer", "Fail")
    NOT_APPLICABLE = "na", pgettext_lazy("checklist answer", "Not applicable")


class Outcome(models.TextChoices):
    PASSED = "passed", pgettext_lazy("inspection outcome", "Passed")
    FAILED = "failed", pgettext_lazy("inspection outcome", "Failed")


class ChecklistItemBase(models.Model):
    """One line of a checklist: what to look at, in order, and the case category a failure
    is reported under (its deadline comes from that category)."""

    position = models.PositiveIntegerField(_l("position"), default=0)
    text = models.CharField(_l("item"), max_length=200)
    category_code = models.CharField(_l("hazard category"), max_length=40)
    is_active = models.BooleanField(_l("in use"), default=True)

    class Meta:
        abstract = True
        ordering = ["position", "id"]

    def __str__(self):
        return self.text


class InspectionBase(models.Model):
    """One visit. ``client_key`` is the device's key: one inspection per inspector and key."""

    client_key = models.CharField(max_length=64, blank=True, editable=False)
    inspected_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_l("inspected by"))
    inspected_at = models.DateTimeField(_l("inspected at"), db_index=True)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    outcome = models.CharField(_l("outcome"), max_length=10, choices=Outcome.choices)
    note = models.TextField(_l("note"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["-inspected_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["inspected_by", "client_key"], condition=~Q(client_key=""),
                                               name="%(app_label)s_%(class)s_key_once")]


class ItemResultBase(models.Model):
    """One answer. The item's text and category are copied: a checklist edited later does
    not rewrite what was found."""

    result = models.CharField(_l("result"), max_length=4, choices=Answer.choices)
    note = models.CharField(_l("note"), max_length=500, blank=True)
    photo = models.CharField(max_length=300, blank=True)  # storage name, under the tenant's prefix
    item_text = models.CharField(_l("item"), max_length=200)
    category_code = models.CharField(_l("hazard category"), max_length=40, blank=True)

    class Meta:
        abstract = True
        ordering = ["id"]
