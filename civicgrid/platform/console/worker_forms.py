"""The grid worker's app: the household visit form (the report form is ``cases.forms.ReportForm``)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _l


class VisitForm(forms.Form):
    """What a worker writes down at the door; the checks live in ``record_household_visit``."""

    note = forms.CharField(label=_l("What you found"), max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 4}))
    # Filled from the phone's position when it can tell; a visit without one is fine. The action
    # checks the values.
    latitude = forms.CharField(required=False, max_length=20, widget=forms.HiddenInput)
    longitude = forms.CharField(required=False, max_length=20, widget=forms.HiddenInput)
