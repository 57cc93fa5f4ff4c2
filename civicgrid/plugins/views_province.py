"""The provincial admin's plugin pages on the province host: the catalog (refused
plugins with their reason), publishing, prices from a date on, and the monthly
statements. Writes go through ``actions``, ``catalog`` and ``billing``."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from civicgrid.platform.accounts.access import province_role_required
from civicgrid.platform.accounts.models import ProvinceRole

from . import actions, billing, catalog, selectors
from .forms import MonthForm, PriceForm

provincial_admin_required = province_role_required(ProvinceRole.PROVINCIAL_ADMIN)


def _entry(plugin_id):
    entry = selectors.catalog_entry(plugin_id)
    if entry is None:
        raise Http404
    return entry


@provincial_admin_required
def catalog_page(request):
    today, counts = timezone.localdate(), selectors.activation_counts()
    entries = list(selectors.province_catalog())
    for entry in entries:
        entry.tenants_on = counts.get(entry.plugin_id, 0)
        entry.prices_now = selectors.prices_by_meter(entry, today)
    return render(request, "plugins/province_catalog.html", {"entries": entries})


@provincial_admin_required
@require_POST
def catalog_refresh(request):
    found = catalog.sync_catalog()
    messages.success(request, ngettext("The catalog is refreshed from this installation: %(count)d plugin.",
                                       "The catalog is refreshed from this installation: %(count)d plugins.",
                                       len(found)) % {"count": len(found)})
    return redirect("province-plugins:plugin-catalog")


@provincial_admin_required
@require_POST
def publish(request, plugin_id):
    entry = _entry(plugin_id)
    published = request.POST.get("published") == "true"
    try:
        actions.publish_plugin(plugin_id=entry.plugin_id, published=published,
                               for_new_tenants=request.POST.get("for_new_tenants") == "true",
                               acting_user=request.user)
    except ValidationError as exc:
        for error in exc.messages:
            messages.error(request, error)
    else:
        done = (_("%(plugin)s is published: counties may switch it on.") if published
                else _("%(plugin)s is withdrawn: no county can switch it on now; where it is on, it stays on."))
        messages.success(request, done % {"plugin": entry.display_name})
    if request.POST.get("next") == "entry":
        return redirect("province-plugins:plugin-entry", entry.plugin_id)
    return redirect("province-plugins:plugin-catalog")


def _entry_page(request, entry, form):
    return render(request, "plugins/province_entry.html", {
        "entry": entry, "form": form, "tenants_on": selectors.activation_counts().get(entry.plugin_id, 0),
        "prices_now": selectors.prices_by_meter(entry, timezone.localdate()),
        "history": entry.prices.select_related("set_by").order_by("meter", "-effective_from")})


@provincial_admin_required
def entry_page(request, plugin_id):
    entry = _entry(plugin_id)
    return _entry_page(request, entry, PriceForm(entry=entry, initial={"effective_from": timezone.localdate()}))


@provincial_admin_required
@require_POST
def set_price(request, plugin_id):
    entry = _entry(plugin_id)
    form = PriceForm(request.POST, entry=entry)
    if form.is_valid():
        try:
            price = actions.set_price(plugin_id=entry.plugin_id, acting_user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.put_errors(exc)
        else:
            messages.success(request, _("From %(day)s, %(meter)s costs %(price)s yuan a unit, %(free)s free a month.")
                             % {"day": price.effective_from.isoformat(), "meter": price.meter,
                                "price": price.unit_price.normalize(), "free": price.free})
            return redirect("province-plugins:plugin-entry", entry.plugin_id)
    return _entry_page(request, entry, form)


@provincial_admin_required
@require_http_methods(["GET", "POST"])
def statements(request):
    default = billing.previous_month(timezone.localdate())
    period, form = MonthForm.month(request.POST if request.method == "POST" else request.GET, default)
    if request.method == "POST" and form.is_bound and form.is_valid():
        made = billing.make_statements(period)
        messages.success(request, ngettext("%(count)d statement made for %(month)s.",
                                           "%(count)d statements made for %(month)s.", len(made))
                         % {"count": len(made), "month": f"{period:%Y-%m}"})
        return redirect(f"{reverse('province-plugins:plugin-statements')}?period={period:%Y-%m}")
    found = list(selectors.statements(period=period).order_by("tenant__name", "plugin__plugin_id"))
    return render(request, "plugins/province_statements.html", {
        "form": form, "period": period, "statements": found,
        "total": sum((s.total for s in found), Decimal("0.00"))})
