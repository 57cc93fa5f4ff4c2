from __future__ import annotations

from datetime import datetime, time, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _l

from civicgrid.platform.accounts.models import User
from civicgrid.platform.accounts.staff.models import StaffProfile, StaffRole

from .selectors import scopes_here


class TokenForm(forms.Form):
    label = forms.CharField(label=_l("Integration"), max_length=100,
                            help_text=_l("The system that will call the API, e.g. the 12345 hotline."))
    acts_as = forms.ModelChoiceField(label=_l("Acts as"), queryset=User.objects.none(),
                                     help_text=_l("The staff account whose role and scope the token has."))
    scopes = forms.MultipleChoiceField(label=_l("Scopes"), widget=forms.CheckboxSelectMultiple)
    expires_on = forms.DateField(label=_l("Expires on"), widget=forms.DateInput(attrs={"type": "date"}),
                                 help_text=_l("A year from today at most."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The core's scopes, and those of the modules switched on in this tenant now.
        self.fields["scopes"].choices = list(scopes_here().items())
        members = StaffProfile.objects.filter(is_active=True).exclude(role=StaffRole.COMMUNITY_EDITOR)
        self.fields["acts_as"].queryset = User.objects.filter(pk__in=members.values("user_id"), is_active=True
                                                              ).order_by("username")
        self.fields["acts_as"].label_from_instance = lambda user: user.full_name or user.username
        self.initial.setdefault("expires_on", (timezone.localdate() + timedelta(days=90)).isoformat())

    def expires_at(self) -> datetime:
        """The end of the chosen day, in the county's time."""
        day = self.cleaned_data["expires_on"]
        return timezone.make_aware(datetime.combine(day, time(23, 59, 59)))
