"""Forms: shapes only (the actions check the rules and give the reasons)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from civicgrid.platform.org.models import OrgUnit

from .models import MAX_RADIUS_M, MIN_RADIUS_M, WEEKDAY_CHOICES, SchoolKind


class SchoolForm(forms.Form):
    code = forms.CharField(label=_("School code"), max_length=40)
    name = forms.CharField(label=_("Name"), max_length=120)
    kind = forms.ChoiceField(label=_("Kind"), choices=SchoolKind.choices)
    address = forms.CharField(label=_("Address"), max_length=200)
    grid = forms.ModelChoiceField(label=_("Grid"), queryset=OrgUnit.objects.none(), to_field_name="code")
    latitude = forms.DecimalField(label=_("Latitude"), max_digits=9, decimal_places=6, min_value=-90, max_value=90)
    longitude = forms.DecimalField(label=_("Longitude"), max_digits=9, decimal_places=6, min_value=-180,
                                   max_value=180)
    pupils = forms.IntegerField(label=_("Pupils"), min_value=0, max_value=100_000, initial=0)
    contact = forms.CharField(label=_("Contact"), max_length=100, required=False)
    opens_at = forms.TimeField(label=_("School opens"), required=False, widget=forms.TimeInput(attrs={"type": "time"}))
    closes_at = forms.TimeField(label=_("School closes"), required=False,
                                widget=forms.TimeInput(attrs={"type": "time"}))
    radius_m = forms.IntegerField(label=_("Zone radius (m)"), min_value=MIN_RADIUS_M, max_value=MAX_RADIUS_M,
                                  initial=200, help_text=_("From %(low)d to %(high)d metres around the school.")
                                  % {"low": MIN_RADIUS_M, "high": MAX_RADIUS_M})

    def __init__(self, *args, grids=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["grid"].queryset = grids if grids is not None else OrgUnit.objects.filter(
            level=OrgUnit.Level.GRID)
        self.fields["grid"].label_from_instance = lambda unit: f"{unit.code} {unit.name}"


class SlotForm(forms.Form):
    weekdays = forms.MultipleChoiceField(label=_("Weekdays"), choices=[(str(d), label) for d, label in WEEKDAY_CHOICES],
                                         widget=forms.CheckboxSelectMultiple, initial=["1", "2", "3", "4", "5"])
    starts_at = forms.TimeField(label=_("From"), widget=forms.TimeInput(attrs={"type": "time"}))
    ends_at = forms.TimeField(label=_("To"), widget=forms.TimeInput(attrs={"type": "time"}))
    patrollers = forms.ModelMultipleChoiceField(label=_("Patrollers"), queryset=None,
                                                widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, patrollers=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["patrollers"].queryset = patrollers
        self.fields["patrollers"].label_from_instance = lambda p: (
            f"{p.user.get_full_name() or p.user.get_username()} · {p.get_role_display()}"
            + (f" · {p.scope_org_unit.name}" if p.scope_org_unit_id else ""))


class CheckInForm(forms.Form):
    slot = forms.IntegerField(widget=forms.HiddenInput)
    latitude = forms.FloatField(required=False, widget=forms.HiddenInput)
    longitude = forms.FloatField(required=False, widget=forms.HiddenInput)
    device_key = forms.CharField(max_length=64, widget=forms.HiddenInput)
    checked_at = forms.DateTimeField(required=False, widget=forms.HiddenInput)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)
