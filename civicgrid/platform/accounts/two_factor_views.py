"""The second-factor pages: enrol an authenticator app, then give its code at each sign-in."""

from __future__ import annotations

from base64 import b32encode

import segno
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from .access import member_here_required
from .forms import SecondFactorCodeForm
from .second_factor import confirm_authenticator, has_authenticator, pending_authenticator, verify


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or "/"
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return "/"


@never_cache
@member_here_required
def verify_page(request):
    if not has_authenticator(request.user):
        return redirect(f"{request.path}enrol/?{request.GET.urlencode()}")
    form = SecondFactorCodeForm(request.POST or None, recovery=True)
    if form.is_valid():
        if verify(request=request, token=form.cleaned_data["code"]):
            return redirect(_next_url(request))
        form.add_error("code", _("That code is not right, or it has expired. Wait for the next one and try again."))
    return render(request, "accounts/two_factor_verify.html", {"form": form, "next": _next_url(request)})


@never_cache
@member_here_required
def enrol_page(request):
    if has_authenticator(request.user) and not request.user.is_verified():
        # Replacing a phone needs the old one first (or a recovery code); a lost phone is reset by an admin.
        return redirect(f"/accounts/two-factor/?{request.GET.urlencode()}")
    device = pending_authenticator(request.user)
    form = SecondFactorCodeForm(request.POST or None)
    if form.is_valid():
        codes = confirm_authenticator(request=request, device=device, token=form.cleaned_data["code"])
        if codes is not None:
            return render(request, "accounts/two_factor_recovery_codes.html",
                          {"codes": codes, "next": _next_url(request)})
        form.add_error("code", _("That code is not right, or it has expired. Check the phone's clock and try the next one."))
    key = b32encode(device.bin_key).decode()
    context = {
        "form": form,
        "next": _next_url(request),
        "qr_svg": segno.make(device.config_url, error="m").svg_inline(scale=4, title=_("Authenticator QR code")),
        "key_groups": [key[i:i + 4] for i in range(0, len(key), 4)],
        "key": key,
    }
    return render(request, "accounts/two_factor_enrol.html", context)
