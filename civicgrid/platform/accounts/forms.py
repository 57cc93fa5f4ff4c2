from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .selectors import may_sign_in_here


class SiteAuthenticationForm(AuthenticationForm):
    """Sign-in that admits only those who belong to this site; for anyone else it
    answers exactly as for a wrong password, so it tells no one who exists where."""

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if not may_sign_in_here(user):
            raise ValidationError(self.error_messages["invalid_login"], code="invalid_login",
                                  params={"username": self.username_field.verbose_name})


class SecondFactorCodeForm(forms.Form):
    code = forms.CharField(label=pgettext_lazy("second factor", "Code"), max_length=20, strip=True,
                           widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric",
                                                         "autofocus": True}))

    def __init__(self, *args, recovery: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].help_text = (
            _("The six digits your authenticator app shows now, or one of your recovery codes.") if recovery
            else _("The six digits your authenticator app shows for this account."))
