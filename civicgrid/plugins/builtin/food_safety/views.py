"""Console pages under /p/food_safety/: the register of food businesses, a business's page
with its licence and history, registering and editing, and complaints that become cases."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from civicgrid.platform.accounts.access import staff_required
from civicgrid.platform.org.models import OrgUnit
from civicgrid.plugins.builtin.checklists import services
from civicgrid.plugins.builtin.checklists.models import Outcome
from civicgrid.plugins.builtin.checklists.photos import photo_response

from . import actions, selectors
from .checklist import items_for
from .forms import BusinessForm, ComplaintForm, FilterForm
from .models import LicenceStatus
from .selectors import VIEW_ROLES

PAGE_SIZE = 50


def _viewer(request):
    if not selectors.may_view(request.staff):
        raise Http404
    return request.staff


@staff_required(*VIEW_ROLES)
def business_list(request):
    staff = _viewer(request)
    form = FilterForm(request.GET or None, staff=staff)
    chosen = form.cleaned_data if form.is_valid() else {}
    today = timezone.localdate()
    grid = OrgUnit.objects.filter(code=chosen["grid"]).first() if chosen.get("grid") else None
    businesses = selectors.filtered(selectors.businesses_for(staff), kind=chosen.get("kind", ""), grid=grid,
                                    status=chosen.get("status", ""), q=chosen.get("q", ""), today=today)
    businesses = selectors.with_licence_status(businesses, today).order_by("name", "pk")
    page = Paginator(businesses, PAGE_SIZE).get_page(request.GET.get("page"))
    query = urlencode({k: v for k, v in chosen.items() if v})
    return render(request, "food_safety/business_list.html", {
        "form": form, "page": page, "query": query, "may_edit": selectors.may_edit(staff),
        "statuses": LicenceStatus, "active_filters": sum(1 for v in chosen.values() if v),
    })


@staff_required(*VIEW_ROLES)
def business_detail(request, pk):
    staff = _viewer(request)
    business = selectors.business_for(staff, pk)
    return render(request, "food_safety/business_detail.html", {
        "business": business, "licence": getattr(business, "licence", None),
        "history": selectors.history(staff, business), "may_edit": selectors.may_edit(staff),
        "may_complain": selectors.may_complain(staff), "may_inspect": selectors.may_inspect(staff),
        "cases": selectors.visible_cases(staff, business),
    })


@staff_required(*selectors.EDIT_ROLES)
def business_new(request):
    staff = request.staff
    if not selectors.may_edit(staff):
        raise Http404
    form = BusinessForm(request.POST or None, staff=staff)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                business = actions.register_business(staff=staff, **form.cleaned_data)
            except ValidationError as problems:
                form.add_action_errors(problems)
            else:
                messages.success(request, _("%(name)s is registered.") % {"name": business.name})
                return redirect("food_safety:business-detail", pk=business.pk)
        status = 400
    return render(request, "food_safety/business_form.html", {"form": form, "business": None}, status=status)


@staff_required(*selectors.EDIT_ROLES)
def business_edit(request, pk):
    staff = request.staff
    if not selectors.may_edit(staff):
        raise Http404
    business = selectors.business_for(staff, pk)
    form = BusinessForm(request.POST or None, staff=staff, initial=BusinessForm.initial_for(business))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                actions.update_business(staff=staff, business_id=business.pk, **form.cleaned_data)
            except ValidationError as problems:
                form.add_action_errors(problems)
            else:
                messages.success(request, _("%(name)s is saved.") % {"name": form.cleaned_data["name"]})
                return redirect("food_safety:business-detail", pk=business.pk)
        status = 400
    return render(request, "food_safety/business_form.html", {"form": form, "business": business}, status=status)


@staff_required(*selectors.COMPLAINT_ROLES)
def complaint_new(request, pk):
    staff = request.staff
    if not selectors.may_complain(staff):
        raise Http404
    business = selectors.business_for(staff, pk)
    form = ComplaintForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                case = actions.file_complaint(staff=staff, business_id=business.pk, **form.cleaned_data)
            except ValidationError as problems:
                form.add_action_errors(problems)
            else:
                messages.success(request, _("Case %(number)s is reported and goes to market supervision.")
                                 % {"number": case.number})
                return redirect("food_safety:business-detail", pk=business.pk)
        status = 400
    return render(request, "food_safety/complaint_form.html", {"form": form, "business": business}, status=status)


# --- inspections in the console -------------------------------------------------------------


@staff_required(*VIEW_ROLES)
def inspection_list(request):
    staff = _viewer(request)
    inspections = selectors.inspections_for(staff).select_related("business", "grid", "inspected_by")
    outcome = request.GET.get("outcome", "")
    if outcome in Outcome.values:
        inspections = inspections.filter(outcome=outcome)
    page = Paginator(inspections.order_by("-inspected_at", "-pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "food_safety/inspection_list.html", {
        "page": page, "query": urlencode({"outcome": outcome}) if outcome in Outcome.values else "",
        "outcome": outcome, "outcomes": Outcome.choices, "may_edit": selectors.may_edit(staff)})


@staff_required(*VIEW_ROLES)
def inspection_detail(request, pk):
    staff = _viewer(request)
    inspection = selectors.inspection_for(staff, pk)
    return render(request, "food_safety/inspection_detail.html", {
        "inspection": inspection, "results": selectors.results_of(inspection), "may_edit": selectors.may_edit(staff)})


@staff_required(*VIEW_ROLES)
def inspection_photo(request, pk, result):
    """A failed item's photo, to those who may see the inspection; never a storage URL."""
    staff = _viewer(request)
    inspection = selectors.inspection_for(staff, pk)
    return photo_response(inspection.results.filter(pk=result).first())


# --- the grid worker's phone pages ----------------------------------------------------------


def _inspector(request):
    if not selectors.may_inspect(request.staff):
        raise Http404
    return request.staff


@staff_required(*selectors.INSPECT_ROLES)
def phone_businesses(request):
    """The grid worker's businesses (375 px): licence status, last inspection, open findings."""
    staff = _inspector(request)
    searching = (request.GET.get("q") or "").replace("\x00", "").strip()[:60]
    businesses = selectors.filtered(selectors.businesses_for(staff), q=searching)
    businesses = selectors.with_last_inspection(selectors.with_licence_status(businesses)).order_by("name", "pk")
    page = Paginator(businesses, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "food_safety/phone_businesses.html", {"page": page, "searching": searching})


def _phone_form_context(request, business, *, data=None, errors=None) -> dict:
    items = items_for(business)
    data = data or {}
    return {
        "business": business, "rows": services.form_rows(items, data, errors), "errors": errors or {},
        "endpoint": reverse("food_safety:inspect-send", kwargs={"pk": business.pk}),
        "action": reverse("food_safety:inspect", kwargs={"pk": business.pk}),
        "title": business.name, "latitude": data.get("latitude", ""), "longitude": data.get("longitude", ""),
        "note": data.get("note", ""), "open_findings": selectors.open_findings(business),
    }


@staff_required(*selectors.INSPECT_ROLES)
def inspect(request, pk):
    """The checklist on the phone. With the script it is kept and sent to ``inspect-send``;
    without it, it posts here like any form."""
    staff = _inspector(request)
    business = selectors.business_for(staff, pk)
    if request.method == "POST":
        try:
            inspection, _created = actions.inspect_business(
                staff=staff, business_id=business.pk, data=request.POST, files=request.FILES,
                client_key=services.client_key(request))
        except ValidationError as problems:
            context = _phone_form_context(request, business, data=request.POST,
                                          errors=services.message_dict(problems))
            return render(request, "food_safety/phone_inspect.html", context, status=400)
        messages.success(request, _inspection_message(inspection))
        return redirect("food_safety:phone-businesses")
    return render(request, "food_safety/phone_inspect.html", _phone_form_context(request, business))


@staff_required(*selectors.INSPECT_ROLES)
@require_POST
def inspect_send(request, pk):
    """Where the phone's script sends a kept inspection (JSON answers): 201 when stored, 200
    when this device key was stored before, 400 with messages by field."""
    staff = _inspector(request)
    business = selectors.business_for(staff, pk)
    try:
        inspection, created = actions.inspect_business(
            staff=staff, business_id=business.pk, data=request.POST, files=request.FILES,
            client_key=services.check_key(services.client_key(request)))
    except ValidationError as problems:
        return JsonResponse({"errors": services.message_dict(problems)}, status=400)
    return JsonResponse({
        "number": inspection.number, "message": _inspection_message(inspection),
        "url": reverse("food_safety:phone-businesses"),
    }, status=201 if created else 200)


def _inspection_message(inspection) -> str:
    failed = sum(1 for row in inspection.results.all() if row.result == "fail")
    if failed:
        return ngettext("Inspection of %(name)s sent: %(n)d item failed and goes to market supervision.",
                        "Inspection of %(name)s sent: %(n)d items failed and go to market supervision.",
                        failed) % {"name": inspection.business.name, "n": failed}
    return _("Inspection of %(name)s sent: everything passed.") % {"name": inspection.business.name}
