"""The residents' forms. Each public form that costs something (a text message, a case)
carries the server-side challenge; all of them are rate-limited in ``views``."""

from __future__ import annotations

import math

from captcha.fields import CaptchaField
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _l

from civicgrid.platform.cases.forms import MultipleFileField, MultipleFileInput
from civicgrid.platform.cases.public_views import RATINGS

from .selectors import resident_categories

MAX_DESCRIPTION = 2000


class ChallengeField(CaptchaField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", _l("Work out the sum in the picture"))
        kwargs.setdefault("error_messages", {"invalid": _l("The answer to the sum is wrong; try the new one.")})
        super().__init__(**kwargs)


class PhoneForm(forms.Form):
    phone = forms.CharField(label=_l("Mobile phone"), max_length=20,
                            widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}))
    challenge = ChallengeField()


class CodeForm(forms.Form):
    phone = forms.CharField(widget=forms.HiddenInput, max_length=20)
    code = forms.RegexField(label=_l("Code from the text message"), regex=r"^\s*\d{6}\s*$",
                            error_messages={"invalid": _l("The code is six digits.")},
                            widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}))


class ReportForm(forms.Form):
    category = forms.ChoiceField(label=_l("What kind of problem is it?"))
    description = forms.CharField(label=_l("What is wrong?"), max_length=MAX_DESCRIPTION,
                                  widget=forms.Textarea(attrs={"rows": 4}))
    address = forms.CharField(label=_l("Where is it? (address or landmark)"), max_length=300, required=False)
    latitude = forms.FloatField(required=False, widget=forms.HiddenInput)
    longitude = forms.FloatField(required=False, widget=forms.HiddenInput)
    photos = MultipleFileField(label=_l("Photos (up to 9)"), required=False,
                               widget=MultipleFileInput(attrs={"accept": "image/*"}))
    name = forms.CharField(label=_l("Your name (optional)"), max_length=50, required=False)
    anonymous = forms.BooleanField(
        label=_l("Report anonymously: staff do not see my name or phone; I follow it with the tracking number"),
        required=False)
    challenge = ChallengeField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", "—")] + resident_categories()

    def clean(self):
        data = super().clean()
        latitude, longitude = data.get("latitude"), data.get("longitude")
        if (latitude is None) != (longitude is None) or any(
                value is not None and not math.isfinite(value) for value in (latitude, longitude)):
            raise ValidationError(_l("The point on the map is not valid; pick it again."))
        if latitude is None and not (data.get("address") or "").strip():
            self.add_error("address", _l("Say where it is, or pick the point on the map."))
        return data


class TrackForm(forms.Form):
    code = forms.CharField(label=_l("Tracking number"), max_length=32)
    phone4 = forms.RegexField(label=_l("Last four digits of your phone"), regex=r"^\d{4}$",
                              error_messages={"invalid": _l("Give the last four digits of the phone you reported with.")},
                              widget=forms.TextInput(attrs={"inputmode": "numeric", "maxlength": 4}))


class RatingForm(forms.Form):
    rating = forms.TypedChoiceField(label=_l("How was it handled?"), choices=RATINGS, coerce=int,
                                    widget=forms.RadioSelect)
    comment = forms.CharField(label=_l("Anything to add?"), required=False, max_length=500,
                              widget=forms.Textarea(attrs={"rows": 3}))


class VoteForm(forms.Form):
    option = forms.TypedChoiceField(label=_l("Your choice"), coerce=int, widget=forms.RadioSelect)

    def __init__(self, *args, options=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["option"].choices = [(option.pk, option.label) for option in options]
