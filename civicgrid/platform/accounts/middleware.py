import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext

from .second_factor import has_authenticator, needs_second_factor
from .selectors import staff_profile_for

API_PREFIXES = ("/api/", "/open311/")


class TenantMembershipMiddleware:
    """Attaches ``request.staff``: the user's membership of this tenant, or None.

    A session is valid on every host of the installation, so being signed in
    says nothing about this tenant; views decide by ``request.staff``.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.staff = SimpleLazyObject(lambda: staff_profile_for(request.user))
        return self.get_response(request)


class IdleSessionTimeoutMiddleware:
    """Ends a signed-in session after ``SESSION_IDLE_TIMEOUT`` without a request.

    The last-seen time is written at most once a minute, so a busy console does
    not rewrite its session on every request.
    """

    KEY = "last_seen"
    RESOLUTION = 60  # seconds

    def __init__(self, get_response):
        self.get_response = get_response
        self.timeout = settings.SESSION_IDLE_TIMEOUT.total_seconds()

    def __call__(self, request):
        if request.user.is_authenticated:
            now = int(time.time())
            last_seen = request.session.get(self.KEY, now)
            if now - last_seen > self.timeout:
                logout(request)
                if request.path.startswith(API_PREFIXES):
                    return self.get_response(request)  # the API answers 403 for an anonymous caller
                return redirect_to_login(request.get_full_path())
            if now - last_seen >= self.RESOLUTION or self.KEY not in request.session:
                request.session[self.KEY] = now
        return self.get_response(request)


class SecondFactorMiddleware:
    """Whoever must sign in with a second factor sees only the second-factor pages, sign-out
    and the language switch until the session has passed it: no page, API call or file is
    reachable by typing its address. Pages redirect; the API answers 403 in its own format."""

    ALLOWED = ("/accounts/two-factor/", "/accounts/logout/", "/i18n/", "/static/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        # Read by the pages too (the console's context hides navigation and inbox meanwhile).
        request.second_factor_pending = (user.is_authenticated and needs_second_factor(user, request.staff)
                                         and not user.is_verified())
        if request.second_factor_pending and not request.path.startswith(self.ALLOWED):
            if request.path.startswith(API_PREFIXES):
                return JsonResponse({"detail": gettext("Sign in with your second factor first.")}, status=403)
            step = "accounts:two-factor-verify" if has_authenticator(user) else "accounts:two-factor-enrol"
            return HttpResponseRedirect(f"{reverse(step)}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)
