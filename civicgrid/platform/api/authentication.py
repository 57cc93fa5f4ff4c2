"""How API callers prove who they are."""

from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BasicAuthentication
from rest_framework.exceptions import AuthenticationFailed

from civicgrid.platform.accounts.second_factor import needs_second_factor
from civicgrid.platform.accounts.selectors import staff_profile_for


class PasswordOnlyBasicAuthentication(BasicAuthentication):
    """Basic auth for integrations, never for an account that must give a second factor:
    a password alone would otherwise open the API to what the console guards with TOTP."""

    def authenticate_credentials(self, userid, password, request=None):
        user, auth = super().authenticate_credentials(userid, password, request)
        if needs_second_factor(user, staff_profile_for(user)):
            raise AuthenticationFailed(_("This account signs in with a second factor; use the console."))
        return user, auth


class PasswordOnlyBasicScheme(OpenApiAuthenticationExtension):
    """The OpenAPI schema's name for it: HTTP Basic, as for DRF's own class."""

    target_class = PasswordOnlyBasicAuthentication
    name = "basicAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "basic"}
