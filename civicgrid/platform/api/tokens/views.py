"""The county admin's page for API tokens: issue one (the plain token shown once), list
them, revoke one."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from civicgrid.platform.accounts.access import staff_required
from civicgrid.platform.accounts.staff.models import StaffRole

from . import actions, selectors
from .forms import TokenForm

admin_only = staff_required(StaffRole.COUNTY_ADMIN)


@never_cache  # the page that shows a new token once must not be kept by any cache
@require_http_methods(["GET", "POST"])
@admin_only
def token_list(request):
    form = TokenForm(request.POST or None)
    issued = None
    if request.method == "POST" and form.is_valid():
        try:
            row, issued = actions.create_token(
                label=form.cleaned_data["label"], scopes=form.cleaned_data["scopes"],
                expires_at=form.expires_at(), acts_as=form.cleaned_data["acts_as"], acting_user=request.user)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error("expires_on" if field == "expires_at" else field if field in form.fields else None,
                               errors)
        else:
            form = TokenForm()
    status = 400 if request.method == "POST" and issued is None else 200
    return render(request, "api_tokens/tokens.html", {
        "form": form, "issued": issued, "tokens": selectors.tokens(), "now": timezone.now(),
        "scope_labels": selectors.scopes_here()}, status=status)


@require_POST
@admin_only
def token_revoke(request, pk: int):
    try:
        row = actions.revoke_token(token_id=pk, acting_user=request.user)
    except ValidationError as exc:
        from django.http import Http404

        raise Http404 from exc
    messages.success(request, _("The token for %(label)s is revoked.") % {"label": row.label})
    return redirect("api-tokens")
