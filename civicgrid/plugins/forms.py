"""Forms of the plugin pages. They shape input; the rules live in ``actions`` and an
action's messages by field come back onto the form."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _l

from .models import CatalogEntry


class PriceForm(forms.Form):
    meter = forms.ChoiceField(label=_l("Meter"))
    unit_price = forms.CharField(label=_l("Unit price (yuan)"), max_length=20,
                                 help_text=_l("Up to four decimals, e.g. 0.05."))
    free = forms.CharField(label=_l("Free units per tenant per month"), max_length=12, initial="0")
    effective_from = forms.DateField(label=_l("From"), widget=forms.DateInput(attrs={"type": "date"}),
                                     help_text=_l("The price in force on a month's last day bills that month."))

    def __init__(self, *args, entry: CatalogEntry, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["meter"].choices = [(m["id"], f"{m['id']} · {m.get('name') or m['id']} ({m.get('unit', '')})")
                                        for m in entry.meters]

    def clean_effective_from(self):
        day = self.cleaned_data["effective_from"]
        # A month already billed keeps the price it was billed at.
        if day < timezone.localdate():
            raise ValidationError(_l("A new price starts today or later."))
        return day

    def put_errors(self, exc: ValidationError) -> None:
        for field, errors in exc.message_dict.items():
            self.add_error(field if field in self.fields else None, errors)


class MonthForm(forms.Form):
    """A month as YYYY-MM; ``period`` is its first day."""

    period = forms.DateField(label=_l("Month"), input_formats=["%Y-%m"],
                             widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
                             error_messages={"invalid": _l("Give the month as YYYY-MM, e.g. 2025-03.")})

    @classmethod
    def month(cls, data, default):
        """The month asked for in ``data`` (or ``default``), and the form with any error."""
        if not data.get("period"):
            return default, cls(initial={"period": default})
        form = cls(data)
        return (form.cleaned_data["period"] if form.is_valid() else default), form
