"""The console's forms. They shape input; the actions decide (and name problems by field)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from civicgrid.platform.cases.models import Source
from civicgrid.platform.org.models import OrgUnit

from . import actions, categories
from .models import BusinessKind, LicenceStatus

DATE = forms.DateInput(attrs={"type": "date"})


def grid_choices(staff) -> list[tuple[str, str]]:
    grids = OrgUnit.objects.filter(level=OrgUnit.Level.GRID)
    if staff.scope_org_unit_id is not None:
        grids = grids.filter(path__startswith=staff.scope_org_unit.path)
    return [(g.code, f"{g.name} ({g.code})") for g in grids.order_by("path")]


class FilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=[("", _("Any kind"))] + BusinessKind.choices)
    grid = forms.ChoiceField(label=_("Grid"), required=False)
    status = forms.ChoiceField(label=_("Licence"), required=False,
                               choices=[("", _("Any licence status"))] + LicenceStatus.choices)

    def __init__(self, *args, staff, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["grid"].choices = [("", _("Any grid"))] + grid_choices(staff)

    def clean_q(self):
        value = self.cleaned_data["q"]
        if "\x00" in value:
            raise ValidationError(_("The text contains a NUL character."))
        return value.strip()


class BusinessForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    kind = forms.ChoiceField(label=_("Kind"), choices=BusinessKind.choices)
    grid = forms.ChoiceField(label=_("Grid"))
    address = forms.CharField(label=_("Address"), max_length=200)
    latitude = forms.DecimalField(label=_("Latitude"), required=False, max_digits=9, decimal_places=6)
    longitude = forms.DecimalField(label=_("Longitude"), required=False, max_digits=10, decimal_places=6)
    operator_name = forms.CharField(label=_("Operator"), max_length=60, required=False)
    operator_phone = forms.CharField(label=_("Operator's phone"), max_length=20, required=False)
    credit_code = forms.CharField(label=_("Unified social credit code"), max_length=18, required=False,
                                  help_text=_("Optional. 18 characters."))
    licence_number = forms.CharField(label=_("Licence number"), max_length=40, required=False)
    licence_issued_on = forms.DateField(label=_("Licence issued on"), required=False, widget=DATE)
    licence_expires_on = forms.DateField(label=_("Licence expires on"), required=False, widget=DATE,
                                         help_text=_("The last day the licence is valid."))

    def __init__(self, *args, staff, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["grid"].choices = [("", "—")] + grid_choices(staff)

    def add_action_errors(self, error: ValidationError) -> None:
        problems = error.message_dict if hasattr(error, "error_dict") else {"__all__": error.messages}
        for name, messages in problems.items():
            self.add_error(name if name in self.fields else None, messages)

    @staticmethod
    def initial_for(business) -> dict:
        licence = getattr(business, "licence", None)
        return {
            "name": business.name, "kind": business.kind, "grid": business.grid.code, "address": business.address,
            "latitude": business.latitude, "longitude": business.longitude, "operator_name": business.operator_name,
            "operator_phone": business.operator_phone, "credit_code": business.credit_code,
            "licence_number": licence.number if licence else "",
            "licence_issued_on": licence.issued_on if licence else None,
            "licence_expires_on": licence.expires_on if licence else None,
        }


class ComplaintForm(forms.Form):
    category = forms.ChoiceField(label=_("Category"))
    description = forms.CharField(label=_("What is the complaint"), widget=forms.Textarea(attrs={"rows": 4}),
                                  max_length=4000)
    source = forms.ChoiceField(label=_("Came from"), choices=[
        (s.value, s.label) for s in actions.COMPLAINT_SOURCES])
    reporter_name = forms.CharField(label=_("Complainant's name"), max_length=100, required=False)
    reporter_phone = forms.CharField(label=_("Complainant's phone"), max_length=20, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from civicgrid.platform.cases.models import Category

        names = dict(Category.objects.filter(code__in=categories.LEAVES, is_active=True).values_list("code", "name"))
        self.fields["category"].choices = [(code, names[code]) for code in categories.LEAVES if code in names]
        self.fields["category"].initial = categories.COMPLAINT
        self.fields["source"].initial = Source.HOTLINE_12345

    def add_action_errors(self, error: ValidationError) -> None:
        problems = error.message_dict if hasattr(error, "error_dict") else {"__all__": error.messages}
        for name, messages in problems.items():
            self.add_error(name if name in self.fields else None, messages)
