"""Sign-in: Django's page with the site's membership rule, and a per-address limit."""

from django.contrib.auth import views as auth_views
from django.utils.translation import gettext as _

from civicgrid.platform.security.ratelimits import retry_after

from .forms import SiteAuthenticationForm

# Per client address: a whole township office shares one, so generous; the lockout per
# account (django-axes, five wrong passwords) is what stops guessing one password.
SIGN_IN_RATE = "60/10m"


class SignInView(auth_views.LoginView):
    authentication_form = SiteAuthenticationForm
    template_name = "accounts/login.html"

    def post(self, request, *args, **kwargs):
        wait = retry_after(request, group="accounts:sign-in", rate=SIGN_IN_RATE)
        if wait is not None:
            form = self.get_form()
            form.errors.clear()
            form.add_error(None, _("Too many sign-in attempts from this address. Wait ten minutes and try again."))
            response = self.render_to_response(self.get_context_data(form=form), status=429)
            response["Retry-After"] = str(wait)
            return response
        return super().post(request, *args, **kwargs)
