"""Password rules beyond Django's own: 等保 asks for complexity, not only length."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


class CharacterClassesValidator:
    """At least three of: lower-case letters, capitals, digits, other characters."""

    REQUIRED = 3

    def validate(self, password: str, user=None) -> None:
        classes = (any(c.islower() for c in password), any(c.isupper() for c in password),
                   any(c.isdigit() for c in password), any(not c.isalnum() for c in password))
        if sum(classes) < self.REQUIRED:
            raise ValidationError(_("Use at least three of: lower-case letters, capitals, digits and symbols."),
                                  code="password_too_simple")

    def get_help_text(self) -> str:
        return _("Your password must use at least three of: lower-case letters, capitals, digits and symbols.")
