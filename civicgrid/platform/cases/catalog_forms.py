"""Console forms for the catalog. They shape input only; every rule lives in
``catalog_actions`` so the console and the API refuse the same things in the same words."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _l

from civicgrid.platform.org.models import Department, OrgUnit

from .forms import INDENT, category_label
from .models import Category, Urgency

DEPTH = {OrgUnit.Level.TOWNSHIP: 0, OrgUnit.Level.VILLAGE: 1, OrgUnit.Level.GRID: 2}


def _groups():
    return [("", _l("— none: this is a group —"))] + [
        (group.code, f"{group.code} {category_label(group)}")
        for group in Category.objects.filter(parent__isnull=True).order_by("sort_order", "code")]


def _departments(blank):
    return [("", blank)] + [(d.code, f"{d.code} {d.name}") for d in Department.objects.filter(is_active=True)]


class CategoryForm(forms.Form):
    code = forms.CharField(label=_l("Code"), required=False, max_length=40,
                           help_text=_l("Upper-case letters, digits and hyphens; it cannot change later."))
    name = forms.CharField(label=_l("Name"), required=False, max_length=100)
    name_en = forms.CharField(label=_l("English name"), required=False, max_length=100)
    description = forms.CharField(label=_l("Description"), required=False, max_length=300)
    parent = forms.ChoiceField(label=_l("Group"), required=False)
    accept_hours = forms.CharField(label=_l("Working hours to accept"), required=False)
    handle_hours = forms.CharField(label=_l("Working hours to handle"), required=False,
                                   help_text=_l("A working day has 7.5 working hours."))
    urgency = forms.ChoiceField(label=_l("Urgency"), choices=Urgency.choices, required=False)
    department_code = forms.ChoiceField(label=_l("Default department"), required=False,
                                        help_text=_l("Used where no routing rule covers the case's area."))
    is_active = forms.BooleanField(label=_l("Active"), required=False, initial=True)
    sort_order = forms.CharField(label=_l("Display order"), required=False, initial="0")

    def __init__(self, *args, editing: Category | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].choices = _groups()
        self.fields["department_code"].choices = _departments(_l("— none —"))
        if editing is not None:
            del self.fields["code"]  # codes never change


class RoutingRuleForm(forms.Form):
    area = forms.ChoiceField(label=_l("Area"), required=False)
    department = forms.ChoiceField(label=_l("Department"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area"].choices = [("", _l("The whole county"))] + [
            (unit.code, f"{INDENT * DEPTH.get(unit.level, 0)}{unit.code} {unit.name}")
            for unit in OrgUnit.objects.order_by("path")]
        self.fields["department"].choices = _departments(_l("— choose —"))


class CalendarOverrideForm(forms.Form):
    day = forms.CharField(label=_l("Day"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    is_working = forms.ChoiceField(label=_l("That day is"), required=False, choices=[
        ("false", _l("a rest day")), ("true", _l("a working day"))])
    note = forms.CharField(label=_l("Note"), required=False, max_length=200)
