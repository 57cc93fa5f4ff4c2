"""A vendor's page on the province host: its own plugins' use per tenant and meter
over a month, and what the tenants were billed for them. Counts and amounts only:
tenant names, plugin ids, meters, quantities, yuan -- never a person."""

from __future__ import annotations

from decimal import Decimal

from django.http import Http404
from django.shortcuts import render
from django.utils import timezone

from civicgrid.platform.accounts.access import province_role_required
from civicgrid.platform.accounts.models import ProvinceRole

from . import billing, selectors
from .forms import MonthForm


@province_role_required(ProvinceRole.VENDOR)
def vendor_home(request):
    vendor = selectors.vendor_of(request.user)
    if vendor is None:
        raise Http404
    period, form = MonthForm.month(request.GET, billing.month_of(timezone.localdate()))
    counts = selectors.activation_counts()
    plugins = list(selectors.vendor_plugins(vendor))
    for entry in plugins:
        entry.tenants_on = counts.get(entry.plugin_id, 0)
    revenue = selectors.revenue_by_tenant(vendor, period=period)
    return render(request, "plugins/vendor.html", {
        "vendor": vendor, "form": form, "period": period, "plugins": plugins,
        "usage": selectors.vendor_usage(vendor, *billing.month_bounds(period)),
        "revenue": revenue, "revenue_total": sum((row["total"] for row in revenue), Decimal("0.00"))})
