"""Console pages (/p/fire_safety/…) and the grid worker's phone pages (/p/fire_safety/m/…).

Readers: county admin, command centre, township and community operators, grid workers and
auditors, each within their area; registering and editing units is the county admin's and the
command centre's county-wide, township and community operators' in their area; the checklist
editor is the county admin's; inspecting is the grid worker's, in their grid. Anyone else,
and any other tenant: 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Case, Count, IntegerField, Value, When
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from civicgrid.platform.accounts.access import staff_required
from civicgrid.plugins.builtin.checklists import services as checklists
from civicgrid.plugins.builtin.checklists.photos import photo_response

from . import actions, selectors
from .forms import UnitForm
from .models import Hazard, ItemResult, RiskLevel, UnitKind

readers = staff_required(*selectors.READER_ROLES)
editors = staff_required(*selectors.EDITOR_ROLES)
inspectors = staff_required(*selectors.INSPECTOR_ROLES)
managers = staff_required(*selectors.MANAGER_ROLES)
PAGE = 50
# High first: the level's order, not its text's (high, low, medium).
RISK_RANK = Case(When(risk_level=RiskLevel.HIGH, then=Value(0)), When(risk_level=RiskLevel.MEDIUM, then=Value(1)),
                 default=Value(2), output_field=IntegerField())


@readers
def overview(request):
    return render(request, "fire_safety/overview.html", {"figures": selectors.figures(request.staff)})


@readers
def unit_list(request):
    chosen = {name: (request.GET.get(name) or "").strip() for name in ("kind", "risk", "grid", "q", "retired")}
    units = selectors.units_for(request.staff).filter(is_active=chosen["retired"] != "1")
    if chosen["kind"] in UnitKind.values:
        units = units.filter(kind=chosen["kind"])
    if chosen["risk"] in RiskLevel.values:
        units = units.filter(risk_level=chosen["risk"])
    if chosen["grid"]:
        units = units.filter(grid__code=chosen["grid"])
    if chosen["q"] and "\x00" not in chosen["q"]:
        units = units.filter(name__icontains=chosen["q"][:50]) | units.filter(code__icontains=chosen["q"][:50])
    page = Paginator(units.order_by("code"), PAGE).get_page(request.GET.get("page"))
    return render(request, "fire_safety/units.html", {
        "page": page, "chosen": chosen, "kinds": UnitKind.choices, "levels": RiskLevel.choices,
        "grids": selectors.grids_for(request.staff).values_list("code", "name"),
        "may_manage": selectors.may_manage(request.staff)})


@readers
def unit_detail(request, pk: int):
    unit = selectors.unit_for(request.staff, pk)
    return render(request, "fire_safety/unit.html", {
        "unit": unit, "history": selectors.history(unit), "open_hazards": selectors.open_hazards(unit),
        "may_inspect": request.staff.role in selectors.INSPECTOR_ROLES,
        "may_manage": selectors.may_manage(request.staff)})


@managers
def unit_new(request):
    """Register one unit (county-wide or in one's area); refused input: 400 with the reasons."""
    form = UnitForm(request.POST or None, staff=request.staff)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                unit = actions.save_unit(staff=request.staff, values=form.values())
            except ValidationError as problems:
                form.add_action_errors(problems)
            else:
                messages.success(request, _("%(name)s is registered.") % {"name": unit.name})
                return redirect("fire_safety:unit-detail", pk=unit.pk)
        status = 400
    return render(request, "fire_safety/unit_form.html", {"form": form, "unit": None}, status=status)


@managers
def unit_edit(request, pk: int):
    """Edit a unit in one's area; unticking "in use" retires it (units are never deleted)."""
    unit = selectors.managed_unit_for(request.staff, pk)
    form = UnitForm(request.POST or None, staff=request.staff, initial=UnitForm.initial_for(unit))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                unit = actions.save_unit(staff=request.staff, unit_id=unit.pk, values=form.values())
            except ValidationError as problems:
                form.add_action_errors(problems)
            else:
                messages.success(request, _("%(name)s is saved.") % {"name": unit.name})
                return redirect("fire_safety:unit-detail", pk=unit.pk)
        status = 400
    return render(request, "fire_safety/unit_form.html", {"form": form, "unit": unit}, status=status)


@readers
def inspection_photo(request, pk: int, result: int):
    """A failed item's photo, to those who may see the unit's page; never a storage URL."""
    unit = selectors.unit_for(request.staff, pk)
    return photo_response(ItemResult.objects.filter(pk=result, inspection__unit=unit).first())


@readers
def inspection_list(request):
    inspections = selectors.inspections_for(request.staff)
    outcome = request.GET.get("outcome") or ""
    if outcome in ("passed", "failed"):
        inspections = inspections.filter(outcome=outcome)
    page = Paginator(inspections.order_by("-inspected_at", "-id"), PAGE).get_page(request.GET.get("page"))
    return render(request, "fire_safety/inspections.html", {"page": page, "outcome": outcome})


# --- the checklist editor (county admin) -----------------------------------------------


@editors
def checklist_editor(request):
    errors, posted = {}, {}
    if request.method == "POST":
        posted = request.POST
        try:
            actions.save_check_item(staff=request.staff, kind=posted.get("kind", ""), text=posted.get("text", ""),
                                    category_code=posted.get("category_code", ""), position=posted.get("position"))
        except ValidationError as problems:
            errors = checklists.message_dict(problems)
        else:
            messages.success(request, _("The checklist item is saved."))
            return redirect(reverse("fire_safety:checklists") + f"#kind-{posted.get('kind')}")
    return _editor_page(request, errors=errors, posted=posted, status=400 if errors else 200)


def _editor_page(request, *, errors, posted, status=200, editing=None):
    from .models import CheckItem

    categories = list(selectors.hazard_categories())
    names = {c.code: c for c in categories}
    by_kind = []
    items = CheckItem.objects.filter(is_active=True).order_by("kind", "position", "id")
    for value, label in UnitKind.choices:
        rows = [item for item in items if item.kind == value]
        for item in rows:
            item.category = names.get(item.category_code)
        by_kind.append({"kind": value, "label": label, "items": rows})
    return render(request, "fire_safety/checklists.html", {
        "by_kind": by_kind, "categories": categories, "kinds": UnitKind.choices, "errors": errors,
        "posted": posted, "editing": editing}, status=status)


@editors
@require_POST
def checklist_item(request, pk: int):
    posted = request.POST
    try:
        item = actions.save_check_item(staff=request.staff, kind=posted.get("kind", ""), text=posted.get("text", ""),
                                       category_code=posted.get("category_code", ""),
                                       position=posted.get("position"), item_id=pk)
    except ValidationError as problems:
        return _editor_page(request, errors=checklists.message_dict(problems), posted=posted, status=400,
                            editing=pk)
    messages.success(request, _("The checklist item is saved."))
    return redirect(reverse("fire_safety:checklists") + f"#kind-{item.kind}")


@editors
@require_POST
def checklist_remove(request, pk: int):
    item = actions.remove_check_item(staff=request.staff, item_id=pk)
    messages.success(request, _("The item is taken off the checklist."))
    return redirect(reverse("fire_safety:checklists") + f"#kind-{item.kind}")


# --- the grid worker's phone ------------------------------------------------------------


@inspectors
def phone_units(request):
    units = selectors.units_for(request.staff).filter(is_active=True).annotate(risk_rank=RISK_RANK) \
        .order_by("risk_rank", "code")
    open_counts = dict(Hazard.objects.filter(unit__in=units, status=Hazard.Status.OPEN).values_list("unit_id")
                       .annotate(n=Count("id")))
    rows = list(units[:200])
    for unit in rows:
        unit.open_count = open_counts.get(unit.pk, 0)
    return render(request, "fire_safety/phone_units.html", {"units": rows})


def _phone_context(request, unit, *, errors=None, data=None):
    items = selectors.checklist(unit.kind)
    return {
        "unit": unit, "rows": checklists.form_rows(items, data, errors), "errors": errors or {},
        "endpoint": reverse("fire_safety:phone-send", kwargs={"pk": unit.pk}),
        "action": reverse("fire_safety:phone-inspect", kwargs={"pk": unit.pk}),
        "title": _("Inspection of %(unit)s") % {"unit": unit.name},
        "open_hazards": selectors.open_hazards(unit),
        "note": (data or {}).get("note", ""),
        "kept": _("No network: the inspection is kept on this phone and sent as soon as the network is back."),
    }


@inspectors
def phone_inspect(request, pk: int):
    """The checklist on the phone. With the script it is kept and sent to ``phone_send``;
    without it, it posts here like any form."""
    unit = selectors.unit_for(request.staff, pk)
    if request.method == "POST":
        try:
            inspection, _created = actions.inspect_unit(staff=request.staff, unit_id=unit.pk, data=request.POST,
                                                        files=request.FILES,
                                                        client_key=checklists.client_key(request))
        except ValidationError as problems:
            return render(request, "fire_safety/phone_inspect.html",
                          _phone_context(request, unit, errors=checklists.message_dict(problems), data=request.POST),
                          status=400)
        messages.success(request, _answer_message(inspection))
        return redirect("fire_safety:phone-units")
    return render(request, "fire_safety/phone_inspect.html", _phone_context(request, unit))


@inspectors
@require_POST
def phone_send(request, pk: int):
    """The phone's script sends a kept inspection here with its ``Idempotency-Key``: 201 the
    first time, 200 with the same inspection every later time, 400 with problems by field."""
    key = checklists.client_key(request)
    try:
        checklists.check_key(key)
        inspection, created = actions.inspect_unit(staff=request.staff, unit_id=pk, data=request.POST,
                                                   files=request.FILES, client_key=key)
    except ValidationError as problems:
        return JsonResponse({"errors": checklists.message_dict(problems)}, status=400,
                            json_dumps_params={"ensure_ascii": False})
    return JsonResponse({
        "number": inspection.number, "replayed": not created, "message": _answer_message(inspection),
        "url": reverse("fire_safety:unit-detail", kwargs={"pk": inspection.unit_id}),
    }, status=201 if created else 200, json_dumps_params={"ensure_ascii": False})


def _answer_message(inspection) -> str:
    failed = inspection.results.filter(result="fail").count()
    if failed:
        return _("Inspection %(number)s is sent: %(n)d failed items are reported as hazards.") % {
            "number": inspection.number, "n": failed}
    return _("Inspection %(number)s is sent: everything passed.") % {"number": inspection.number}
