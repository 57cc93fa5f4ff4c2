"""Console pages under /p/school_surroundings/ and the patroller's phone page.

Deny by default: each page names its roles (``staff_required``); schools come through
``selectors.school_for`` (the actor's area), so another area's school is not found."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from civicgrid.platform.accounts.access import staff_required
from civicgrid.platform.org.selectors import grids_for

from . import actions, selectors
from .forms import CheckInForm, SchoolForm, SlotForm
from .models import PatrolSlot

viewer = staff_required(*selectors.VIEW_ROLES)
school_editor = staff_required(*selectors.SCHOOL_EDIT_ROLES)
rota_editor = staff_required(*selectors.ROTA_EDIT_ROLES)
patroller = staff_required(*selectors.PATROL_ROLES)


def _errors_into(form, problems: ValidationError) -> None:
    for name, messages_ in (problems.message_dict if hasattr(problems, "error_dict") else
                            {None: problems.messages}).items():
        for message in messages_:
            form.add_error(name if name in form.fields else None, message)


# --- schools -----------------------------------------------------------------------------------


@viewer
def school_list(request):
    staff = request.staff
    schools = list(selectors.schools_for(staff))
    hazards = selectors.hazards_by_school(staff, schools)
    duty = selectors.duty_for(staff)
    missed = {}
    for item in duty:
        if item.state == selectors.DutyState.MISSED:
            missed[item.slot.school_id] = missed.get(item.slot.school_id, 0) + 1
    rows = [{"school": s, "hazards": hazards.get(s.pk, 0), "missed": missed.get(s.pk, 0)} for s in schools]
    return render(request, "school_surroundings/schools.html", {
        "rows": rows, "may_edit": staff.role in selectors.SCHOOL_EDIT_ROLES})


def _school_form_page(request, *, school=None):
    staff = request.staff
    initial = None
    if school is not None:
        initial = {name: getattr(school, name) for name in actions.SCHOOL_FIELDS if name != "grid"}
        initial["grid"] = school.grid.code
    form = SchoolForm(request.POST or None, initial=initial, grids=grids_for(staff))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                if school is None:
                    school = actions.create_school(staff=staff, **form.cleaned_data)
                    messages.success(request, _("School %(name)s is added.") % {"name": school.name})
                else:
                    school = actions.update_school(staff=staff, school=school, changes=form.cleaned_data)
                    messages.success(request, _("School %(name)s is saved.") % {"name": school.name})
                return redirect("school_surroundings:school-detail", school.pk)
            except ValidationError as problems:
                _errors_into(form, problems)
        status = 400
    return render(request, "school_surroundings/school_form.html", {"form": form, "school": school}, status=status)


@school_editor
def school_create(request):
    return _school_form_page(request)


@school_editor
def school_edit(request, pk):
    return _school_form_page(request, school=selectors.school_for(request.staff, pk))


def zone_map_data(zone: selectors.Zone) -> dict:
    school = zone.school
    return {
        "school": {"name": school.name, "lat": float(school.latitude), "lng": float(school.longitude),
                   "radius": zone.radius_m},
        "places": [{"name": p.name, "kind": p.kind_label, "lat": p.latitude, "lng": p.longitude,
                    "distance": p.distance_m} for p in zone.places],
        "hazards": [{"number": h.number, "title": h.title, "lat": h.latitude, "lng": h.longitude,
                     "distance": h.distance_m, "urgency": h.urgency, "url": f"/cases/{h.pk}/"} for h in zone.hazards],
    }


@viewer
def school_detail(request, pk):
    staff = request.staff
    school = selectors.school_for(staff, pk)
    zone = selectors.zone_contents(school, staff=staff)
    return render(request, "school_surroundings/school.html", {
        "school": school, "zone": zone, "map_data": zone_map_data(zone),
        "slots": selectors.rota_of(school), "duty": [d for d in selectors.duty_for(staff) if d.slot.school_id == school.pk],
        "may_edit": staff.role in selectors.SCHOOL_EDIT_ROLES,
        "may_edit_rota": staff.role in selectors.ROTA_EDIT_ROLES,
    })


# --- the rota ------------------------------------------------------------------------------------


@rota_editor
def rota(request, pk):
    staff = request.staff
    school = selectors.school_for(staff, pk)
    form = SlotForm(request.POST or None, patrollers=selectors.patroller_choices(staff, school))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                actions.add_slot(staff=staff, school=school, **form.cleaned_data)
            except ValidationError as problems:
                _errors_into(form, problems)
            else:
                messages.success(request, _("The slot is on the rota."))
                return redirect("school_surroundings:rota", school.pk)
        status = 400
    return render(request, "school_surroundings/rota.html", {
        "school": school, "slots": selectors.rota_of(school), "form": form}, status=status)


def _slot(staff, school_pk, slot_pk) -> PatrolSlot:
    school = selectors.school_for(staff, school_pk)
    try:
        return PatrolSlot.objects.get(pk=slot_pk, school=school, is_active=True)
    except (PatrolSlot.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


@rota_editor
def slot_edit(request, pk, slot_pk):
    staff = request.staff
    slot = _slot(staff, pk, slot_pk)
    initial = {"weekdays": list(slot.weekdays), "starts_at": slot.starts_at, "ends_at": slot.ends_at,
               "patrollers": list(slot.patrollers.all())}
    form = SlotForm(request.POST or None, initial=initial, patrollers=selectors.patroller_choices(staff, slot.school))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                actions.update_slot(staff=staff, slot=slot, **form.cleaned_data)
            except ValidationError as problems:
                _errors_into(form, problems)
            else:
                messages.success(request, _("The slot is saved."))
                return redirect("school_surroundings:rota", slot.school_id)
        status = 400
    return render(request, "school_surroundings/slot_form.html", {"slot": slot, "school": slot.school, "form": form},
                  status=status)


@rota_editor
@require_POST
def slot_remove(request, pk, slot_pk):
    slot = _slot(request.staff, pk, slot_pk)
    actions.remove_slot(staff=request.staff, slot=slot)
    messages.success(request, _("The slot is off the rota; its check-ins are kept."))
    return redirect("school_surroundings:rota", slot.school_id)


# --- the day's duty ------------------------------------------------------------------------------


@viewer
def duty(request):
    staff = request.staff
    today = timezone.localdate()
    try:
        day = parse_date(request.GET.get("day") or "") or today
    except ValueError:  # a well-formed date that does not exist (02-30)
        day = today
    if abs((day - today).days) > 366:
        day = today
    rows = selectors.duty_for(staff, day=day)
    counts = {state: sum(r.state == state for r in rows) for state in ("done", "missed", "now", "later")}
    return render(request, "school_surroundings/duty.html", {"rows": rows, "day": day, "today": today,
                                                             "counts": counts})


# --- the patroller's phone page ------------------------------------------------------------------


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@never_cache
@patroller
def checkin(request):
    """Today's slots of this patroller, each with a check-in button that sends the phone's
    position (GPS). Without the script the form posts here; with it, the check-in is sent as
    JSON with the phone's key in ``Idempotency-Key`` and kept on the phone while offline."""
    staff = request.staff
    problem = ""
    status = 200
    if request.method == "POST":
        data = request.POST.copy()
        if request.headers.get("Idempotency-Key"):
            data["device_key"] = request.headers["Idempotency-Key"]
        form = CheckInForm(data)
        if form.is_valid():
            try:
                item, created = actions.check_in(staff=staff, slot_id=form.cleaned_data["slot"],
                                                 latitude=form.cleaned_data["latitude"],
                                                 longitude=form.cleaned_data["longitude"],
                                                 device_key=form.cleaned_data["device_key"],
                                                 checked_at=form.cleaned_data["checked_at"],
                                                 note=form.cleaned_data["note"])
            except actions.CheckInRefused as refused:
                problem, status = refused.reason, 400
                if _wants_json(request):
                    return JsonResponse({"refused": refused.code, "reason": refused.reason}, status=400)
            except ValidationError as problems:
                problem, status = " ".join(problems.messages), 400
                if _wants_json(request):
                    return JsonResponse({"errors": problems.message_dict if hasattr(problems, "error_dict")
                                         else {"__all__": problems.messages}}, status=400)
            else:
                text = (_("Checked in at %(school)s, %(distance)d m from the school.") if created else
                        _("Already checked in at %(school)s for this slot.")) % {
                    "school": item.slot.school.name, "distance": item.distance_m}
                if _wants_json(request):
                    return JsonResponse({"id": item.pk, "created": created, "message": text,
                                         "slot": item.slot_id, "day": item.day.isoformat()},
                                        status=201 if created else 200)
                messages.success(request, text)
                return redirect("school_surroundings:checkin")
        else:
            status = 400
            problem = " ".join(str(m) for errors in form.errors.values() for m in errors)
            if _wants_json(request):
                return JsonResponse({"errors": form.errors.get_json_data()}, status=400)
    rows = selectors.my_duty(staff)
    return render(request, "school_surroundings/checkin.html", {
        "rows": rows, "problem": problem, "device_key": uuid.uuid4().hex,
        "checkin_url": request.path}, status=status)
