from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from .selectors import may_sign_in_here


class SiteAuthenticationForm(AuthenticationForm):
    """Sign-in that admits only those who belong to this site; for anyone else it
    answers exactly as for a wrong password, so it tells no one who exists where."""

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if not may_sign_in_here(user):
            raise ValidationError(self.error_messages["invalid_login"], code="invalid_login",
                                  params={"username": self.username_field.verbose_name})
