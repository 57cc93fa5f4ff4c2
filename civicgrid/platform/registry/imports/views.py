"""Console pages for importing a department's file: upload, map columns, watch,
download the report. For the county admin and the command centre; others get 404."""

from __future__ import annotations

import tempfile

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET

from civicgrid.platform.accounts.access import staff_required

from . import actions, progress, reading, reports, targets
from .forms import LimitedUploadHandler, MappingForm, UploadForm
from .models import ImportBatch
from .selectors import IMPORT_ROLES, access_batch, batches_for, problem_rows

importer_required = staff_required(*IMPORT_ROLES)
# multipart framing and the form's other fields, on top of the file itself
UPLOAD_OVERHEAD_BYTES = 64 * 1024


def _limit() -> int:
    return settings.CIVICGRID_IMPORT_MAX_UPLOAD_BYTES


def _too_big_message() -> str:
    return _("The file is larger than %(limit)s. Upload a smaller file, or import it with the command "
             "line (civicgrid registry import), which takes files of any size.") % {
        "limit": filesizeformat(_limit())}


# CSRF is checked inside, after the size limit is in place: the check reads the
# body, and the body must not be stored whole before the limit can refuse it.
@csrf_exempt
@importer_required
def imports(request):
    if request.method == "POST":
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
        if declared > _limit() + UPLOAD_OVERHEAD_BYTES:
            return _index(request, UploadForm(), refused=_too_big_message())  # the body is never read
        request.upload_handlers.insert(0, LimitedUploadHandler(request, _limit()))
    return _upload(request)


@csrf_protect
def _upload(request):
    if request.method != "POST":
        return _index(request, UploadForm())
    form = UploadForm(request.POST, request.FILES)
    if getattr(request, "import_upload_too_big", False):
        return _index(request, UploadForm(), refused=_too_big_message())
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            batch = actions.open_batch(staff=request.staff, department_code=form.cleaned_data["department"].code,
                                       file_name=upload.name, upload=upload, target=form.cleaned_data["target"])
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error("file", message)
        else:
            return redirect("registry_imports:registry-import", batch.pk)
    return _index(request, form, status=400)


def _index(request, form, *, refused: str = "", status: int = 200):
    batches = list(batches_for(request.staff)[:20])
    labels = {choice.code: choice.label for choice in targets.choices()}
    for batch in batches:
        batch.target_label = labels.get(batch.target, batch.target)
    return render(request, "registry_imports/index.html", {
        "form": form, "refused": refused, "batches": batches, "limit": _limit(),
    }, status=413 if refused else status)


@importer_required
def batch_page(request, batch_id):
    batch = access_batch(request.staff, batch_id)
    form = None
    if batch.status == ImportBatch.Status.UPLOADED:
        form = MappingForm(batch, request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                actions.queue_import(staff=request.staff, batch=batch, column_mapping=form.mapping)
            except ValidationError as exc:
                for message in exc.messages:
                    form.add_error(None, message)
            else:
                return redirect("registry_imports:registry-import", batch.pk)
    elif request.method == "POST":
        return redirect("registry_imports:registry-import", batch.pk)
    problems = problem_rows(batch) if batch.is_finished else []
    labels = dict(targets.fields(batch.target))
    for row in problems:
        row.described = reports.describe_differences(getattr(row, "differences", None), labels)
    target = targets.plugin_target(batch.target)
    return render(request, "registry_imports/batch.html", {
        "batch": batch, "form": form, "problems": problems, "state": batch_state(batch),
        "encoding_label": reading.encoding_label(batch.encoding), "is_persons": target is None,
        "target_label": targets.label(batch.target),
        "required_labels": [str(label) for _value, label in targets.required(batch.target)],
        "key_label": labels.get(target.key, target.key) if target else "",
    }, status=400 if form is not None and form.errors else 200)


def batch_state(batch: ImportBatch) -> dict:
    live = progress.read(batch.pk) or {}
    finished = batch.is_finished
    phase = "done" if finished else live.get("phase", "queued")
    return {
        "status": batch.status,
        "status_label": str(batch.get_status_display()),
        "finished": finished,
        "phase": phase,
        "phase_label": _(progress.PHASES.get(phase, progress.PHASES["queued"])[1]),
        "percent": 100 if finished else live.get("percent", 0),
        "counts": batch.counts(),
        "error": batch.error,
        "reports": {fmt: reverse("registry_imports:registry-import-report", args=[batch.pk, fmt])
                    for fmt in ("xlsx", "csv")} if finished and batch.status != ImportBatch.Status.FAILED else {},
    }


@require_GET
@importer_required
def batch_progress(request, batch_id):
    return JsonResponse(batch_state(access_batch(request.staff, batch_id)))


@require_GET
@importer_required
def batch_report(request, batch_id, fmt):
    batch = access_batch(request.staff, batch_id)
    if fmt not in ("xlsx", "csv") or not batch.is_finished or batch.status == ImportBatch.Status.FAILED:
        raise Http404
    # An anonymous temporary file: gone when the response closes it.
    out = tempfile.TemporaryFile()
    if fmt == "xlsx":
        reports.write_xlsx(batch, out)
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        reports.write_csv_to(batch, out)
        content_type = "text/csv; charset=utf-8"
    out.seek(0)
    return FileResponse(out, as_attachment=True, filename=reports.report_file_name(batch, fmt),
                        content_type=content_type)
