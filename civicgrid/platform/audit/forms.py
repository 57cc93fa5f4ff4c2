"""The audit page's filters: every field optional, the query string shareable."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _l

from . import selectors


class AuditFilterForm(forms.Form):
    start = forms.DateField(label=_l("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_l("To (inclusive)"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    actor = forms.CharField(label=_l("Who (user name)"), required=False, max_length=150)
    action = forms.ChoiceField(label=_l("What (action)"), required=False)
    target_type = forms.ChoiceField(label=_l("Target type"), required=False)
    target_id = forms.CharField(label=_l("Target id"), required=False, max_length=80)
    text = forms.CharField(label=_l("Purpose contains"), required=False, max_length=100)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [("", _l("Any action"))] + [(a, a) for a in selectors.known_actions()]
        self.fields["target_type"].choices = [("", _l("Any type"))] + [
            (t, t) for t in selectors.known_target_types()]

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise ValidationError(_l("The start date is after the end date."))
        return data

    def filters(self) -> dict:
        """The valid filters (empty ones left out); call after is_valid()."""
        return {name: value for name, value in self.cleaned_data.items() if value}
