"""A county admin's plugin pages on the tenant host: the published plugins with
their state here, and a confirmation page for each switch. The switches are
``actions.enable_plugin`` / ``actions.disable_plugin``; they write the audit rows."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from civicgrid.platform.accounts.access import staff_required
from civicgrid.platform.accounts.staff.models import StaffRole

from . import actions, selectors


@staff_required(StaffRole.COUNTY_ADMIN)
def plugin_list(request):
    today = timezone.localdate()
    rows = selectors.catalog_for_tenant(request.tenant)
    for row in rows:
        row["prices"] = selectors.prices_by_meter(row["entry"], today)
    return render(request, "plugins/list.html", {"rows": rows})


def _switch(request, plugin_id: str, *, on: bool):
    row = selectors.catalog_row_for_tenant(request.tenant, plugin_id)
    # Switching on needs a published plugin; switching off also serves one the province withdrew.
    if row is None or (on and not row["entry"].published):
        raise Http404
    entry, errors = row["entry"], []
    if request.method == "POST":
        switch = actions.enable_plugin if on else actions.disable_plugin
        try:
            switch(tenant=request.tenant, plugin_id=entry.plugin_id, acting_user=request.user)
        except ValidationError as exc:
            errors = exc.messages
        else:
            done = _("%(plugin)s is switched on.") if on else _("%(plugin)s is switched off; its data is kept.")
            messages.success(request, done % {"plugin": entry.display_name})
            return redirect("plugins:plugin-list")
    return render(request, "plugins/switch.html", {
        "row": row, "entry": entry, "name": entry.display_name, "on": on, "errors": errors,
        "may_switch": (not row["problem"] and not row["enabled"]) if on else row["enabled"],
        "contributions": selectors.contributions(entry.plugin_id),
        "prices": selectors.prices_by_meter(entry, timezone.localdate())})


@staff_required(StaffRole.COUNTY_ADMIN)
@require_http_methods(["GET", "POST"])
def plugin_enable(request, plugin_id):
    return _switch(request, plugin_id, on=True)


@staff_required(StaffRole.COUNTY_ADMIN)
@require_http_methods(["GET", "POST"])
def plugin_disable(request, plugin_id):
    return _switch(request, plugin_id, on=False)
