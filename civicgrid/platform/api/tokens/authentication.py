"""``Authorization: Bearer <token>`` for integrations, and the scope check.

The scope is checked here, as the token is accepted, rather than in a permission class:
every API view lists its own ``permission_classes``, which replace the defaults, so a
default permission would be dropped silently by each of them. Here no view can forget it.

A token that is unknown here (another county's, or none), expired or revoked answers 401;
a valid token on a view whose declared scope it lacks, or that declares none, 403.
"""

from __future__ import annotations

from django.db import connection
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import APIException, PermissionDenied

from civicgrid.platform.accounts.selectors import staff_profile_for

from . import actions, selectors
from .scopes import ANY_SCOPE, TOKEN_AREA, required_scope

KEYWORD = b"bearer"
CHALLENGE = 'Bearer realm="api"'


class TokenRefused(APIException):
    """401 with a Bearer challenge, whatever the view's first authenticator is (DRF would turn
    an AuthenticationFailed into 403 behind session authentication, which has no challenge)."""

    status_code = 401
    default_code = "authentication_failed"
    auth_header = CHALLENGE


class BearerTokenAuthentication(BaseAuthentication):
    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != KEYWORD:
            return None  # not ours: session or Basic may still know the caller
        if len(parts) != 2:
            raise TokenRefused(_("Send the token as: Authorization: Bearer <token>."))
        try:
            plain = parts[1].decode("ascii")
        except UnicodeDecodeError as exc:
            raise TokenRefused(_("The token is not valid here.")) from exc
        if connection.schema_name == "public":
            raise TokenRefused(_("The token is not valid here."))  # tokens belong to a county's host
        token = selectors.usable_token(actions.token_hash(plain))
        staff = staff_profile_for(token.acts_as) if token is not None else None
        if staff is None:
            raise TokenRefused(_("The token is not valid here, has expired or was revoked."))
        view = (getattr(request, "parser_context", None) or {}).get("view")
        needed = required_scope(view, request.method, getattr(request._request, TOKEN_AREA, None))
        if needed is None:
            raise PermissionDenied(_("This endpoint does not accept API tokens."))
        if needed != ANY_SCOPE and needed not in token.scopes:
            raise PermissionDenied(_("The token lacks the scope %(scope)s.") % {"scope": needed})
        actions.note_use(token=token)
        request._request.staff = staff  # what the views' permissions read, as for a session
        return token.acts_as, token

    def authenticate_header(self, request):
        return CHALLENGE


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = BearerTokenAuthentication
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer",
                "description": "An API token issued by the county admin (console → API tokens)."}
