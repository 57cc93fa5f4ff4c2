"""The audit page of the tenant console (/audit/): the trail filtered and paged, newest
first, with the chain's state, and the filtered rows as CSV or XLSX. For auditors and
the county admin; anyone else, and every other tenant's member, gets 404. Reading the
page and exporting are themselves audited."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils.translation import gettext as _

from civicgrid.platform.accounts.access import staff_required

from . import exports, selectors, verify
from .actions import record
from .forms import AuditFilterForm

PAGE_SIZE = 50


@staff_required(*selectors.AUDIT_READERS)
def page(request):
    form = AuditFilterForm(request.GET or None)
    valid = form.is_valid() if form.is_bound else True
    filters = form.filters() if form.is_bound and valid else {}
    entries = selectors.audit_entries(request.staff, **filters) if valid else selectors.audit_entries(None)
    shown = {name: str(value) for name, value in filters.items()}
    wanted = request.GET.get("format")
    if wanted in ("csv", "xlsx") and valid:
        count = entries.count()
        if wanted == "xlsx" and count > exports.XLSX_MAX_ROWS:
            messages.error(request, _("%(count)d rows are too many for an XLSX file (at most %(max)d): narrow the "
                                      "filters or export CSV.") % {"count": count, "max": exports.XLSX_MAX_ROWS})
        else:
            record(action="audit.export", actor=request.user, format=wanted,
                   rows=count, filters=shown)
            return exports.csv_response(entries) if wanted == "csv" else exports.xlsx_response(entries)
    status = verify.quick_status()
    page_obj = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    record(action="audit.view", actor=request.user, filters=shown,
           page=page_obj.number)
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("format", None)
    return render(request, "audit/page.html", {
        "form": form, "page": page_obj, "status": status, "query": query.urlencode(),
        "rows": [{"entry": entry, "data": exports.compact(entry.data)} for entry in page_obj],
        "active_filters": len(filters),
    })
