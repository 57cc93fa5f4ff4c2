"""Console pages: upload a list, see the results, download them as CSV or XLSX."""

from __future__ import annotations

from functools import wraps

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from civicgrid.platform.accounts.access import staff_required

from .actions import MAX_ROWS_PER_REQUEST, Outcome, count_outcomes, verify_people
from .runs import load_run, save_run
from .selectors import can_verify
from .tabular import (
    DEFAULT_HEADERS_HINT,
    differences_label,
    outcome_label,
    read_rows,
    results_csv,
    results_xlsx,
)

PAGE_SIZE = 100


def verifier_required(view):
    """Signed-in staff of this tenant whose role may verify lists; everyone else 404."""

    @staff_required()
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not can_verify(request.staff):
            raise Http404
        return view(request, *args, **kwargs)

    return wrapped


class UploadForm(forms.Form):
    file = forms.FileField(label=_l("List of people (CSV or XLSX)"))
    name_column = forms.CharField(label=_l("Column holding the name"), required=False, max_length=60)
    id_number_column = forms.CharField(label=_l("Column holding the ID number"), required=False, max_length=60)
    address_column = forms.CharField(label=_l("Column holding the address"), required=False, max_length=60)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.CIVICGRID_IMPORT_MAX_UPLOAD_BYTES
        if upload.size > limit:
            raise ValidationError(_("The file is larger than %(mb)d MB. Split it, or use the command line.")
                                  % {"mb": limit // (1024 * 1024)})
        return upload

    def mapping(self) -> dict[str, str]:
        return {field: self.cleaned_data[f"{field}_column"].strip()
                for field in ("name", "id_number", "address") if self.cleaned_data[f"{field}_column"].strip()}


@verifier_required
def upload(request):
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload_file = form.cleaned_data["file"]
        try:
            rows = read_rows(upload_file.read(), upload_file.name, form.mapping())
            if not rows:
                raise ValidationError(_("The file has no rows below its header line."))
            if len(rows) > MAX_ROWS_PER_REQUEST:
                raise ValidationError(
                    _("At most %(max)s rows at a time; this file has %(n)s. Split it, or use the command line.")
                    % {"max": f"{MAX_ROWS_PER_REQUEST:,}", "n": f"{len(rows):,}"})
        except ValidationError as exc:
            form.add_error("file", exc)
        else:
            results = verify_people(staff=request.staff, rows=rows, channel="page")
            run_id = save_run(staff=request.staff, results=results, source=upload_file.name)
            return redirect("registry-verify-result", run_id=run_id)
    return render(request, "registry_verification/upload.html", {
        "form": form, "headers_hint": DEFAULT_HEADERS_HINT, "max_rows": MAX_ROWS_PER_REQUEST,
    })


@verifier_required
def result(request, run_id):
    run = load_run(staff=request.staff, run_id=run_id)
    counts = count_outcomes(run.results)
    shown = request.GET.get("outcome", "")
    rows = [r for r in run.results if r.outcome == shown] if shown in Outcome.values else run.results
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "registry_verification/result.html", {
        "run": run, "total": len(run.results), "shown": shown if shown in Outcome.values else "",
        "counts": [(o.value, o.label, counts[o.value]) for o in Outcome],
        "page": page,
        "rows": [(r, outcome_label(r.outcome), differences_label(r.differences)) for r in page.object_list],
    })


@verifier_required
def download(request, run_id, fmt):
    run = load_run(staff=request.staff, run_id=run_id)
    if fmt == "xlsx":
        body = results_xlsx(run.results)
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        body, content_type = results_csv(run.results), "text/csv; charset=utf-8"
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="verification-{run.id[:8]}.{fmt}"'
    return response
