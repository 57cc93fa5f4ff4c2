"""Console pages of the catalog: the category tree with deadlines and routing rules
(county admins and command operators; only admins see the forms), one page per
category for its edits and rules, and the working calendar with its local overrides.

Every write goes through ``catalog_actions``; the forms only shape input, and an
action's messages by field come back onto the form.
"""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from civicgrid.platform.accounts.access import staff_required
from civicgrid.platform.accounts.staff.models import StaffRole

from . import catalog_actions as catalog
from . import catalog_selectors as catalog_reads
from .catalog_forms import CalendarOverrideForm, CategoryForm, RoutingRuleForm
from .models import CalendarOverride, Category

ADMIN = StaffRole.COUNTY_ADMIN
OUTLOOK_DAYS = 60


def _put_errors(form, exc: ValidationError) -> None:
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


def _values(form) -> dict:
    values = dict(form.cleaned_data)
    values["parent"] = values.get("parent") or None
    return values


def _category(code) -> Category:
    found = Category.objects.select_related("parent").filter(code=code).first()
    if found is None:
        raise Http404
    return found


@staff_required(*catalog_reads.READERS)
def tree(request):
    groups = catalog_reads.category_tree()
    for group in groups:
        for leaf in group.leaves:
            leaf.accept_days = catalog_reads.working_days(leaf.accept_hours)
            leaf.handle_days = catalog_reads.working_days(leaf.handle_hours)
    return render(request, "cases/catalog/tree.html", {
        "groups": groups, "may_edit": request.staff.role == ADMIN})


@staff_required(ADMIN)
def category_new(request):
    form = CategoryForm(request.POST or None, initial={"parent": request.GET.get("parent", "")})
    if request.method == "POST" and form.is_valid():
        values = _values(form)
        try:
            category = catalog.create_category(staff=request.staff, **values)
        except ValidationError as exc:
            _put_errors(form, exc)
        else:
            messages.success(request, _("Category %(code)s is saved.") % {"code": category.code})
            return redirect("catalog:catalog-tree")
    return render(request, "cases/catalog/category_form.html", {"form": form, "category": None})


@staff_required(ADMIN)
def category_edit(request, code):
    category = _category(code)
    initial = {field: getattr(category, field) for field in catalog.EDITABLE}
    initial["parent"] = category.parent.code if category.parent else ""
    form = CategoryForm(request.POST or None, initial=initial, editing=category)
    if request.method == "POST" and form.is_valid():
        try:
            catalog.update_category(staff=request.staff, category=category, **_values(form))
        except ValidationError as exc:
            _put_errors(form, exc)
        else:
            messages.success(request, _("Category %(code)s is saved. Cases already reported keep the deadlines "
                                        "they were given.") % {"code": category.code})
            return redirect("catalog:catalog-tree")
    rules = category.routing_rules.select_related("area", "department").order_by("area__path")
    return render(request, "cases/catalog/category_form.html", {
        "form": form, "category": category, "rules": rules,
        "rule_form": RoutingRuleForm() if category.parent_id else None})


@staff_required(ADMIN)
@require_POST
def category_active(request, code):
    category = _category(code)
    switch = catalog.activate_category if request.POST.get("active") == "true" else catalog.deactivate_category
    try:
        switch(staff=request.staff, category=category)
    except ValidationError as exc:
        for error in exc.messages:
            messages.error(request, error)
    else:
        done = (_("Category %(code)s is switched on.") if switch is catalog.activate_category
                else _("Category %(code)s is switched off."))
        messages.success(request, done % {"code": category.code})
    return redirect("catalog:catalog-tree")


@staff_required(ADMIN)
@require_POST
def rule_set(request, code):
    category = _category(code)
    form = RoutingRuleForm(request.POST)
    form.is_valid()
    try:
        catalog.set_routing_rule(staff=request.staff, category=category, area_code=form.cleaned_data.get("area"),
                                 department_code=form.cleaned_data.get("department", ""))
    except ValidationError as exc:
        for error in exc.messages:
            messages.error(request, error)
    else:
        messages.success(request, _("The routing rule is saved."))
    return redirect("catalog:catalog-category-edit", code=category.code)


@staff_required(ADMIN)
@require_POST
def rule_delete(request, pk):
    code = Category.objects.filter(routing_rules__pk=pk).values_list("code", flat=True).first()
    catalog.delete_routing_rule(staff=request.staff, rule_id=pk)
    messages.success(request, _("The routing rule is deleted."))
    return redirect("catalog:catalog-category-edit", code=code)


@staff_required(*catalog_reads.READERS)
def calendar(request):
    may_edit = request.staff.role == ADMIN
    form = CalendarOverrideForm(request.POST or None)
    if request.method == "POST":
        if not may_edit:
            raise Http404
        form.is_valid()
        try:
            catalog.set_calendar_override(staff=request.staff, **form.cleaned_data)
        except ValidationError as exc:
            _put_errors(form, exc)
        else:
            messages.success(request, _("The day is saved. New deadlines in this process use it now, everywhere "
                                        "else within a minute."))
            return redirect("catalog:catalog-calendar")
    try:
        start = date.fromisoformat(request.GET["start"]) if request.GET.get("start") else timezone.localdate()
    except ValueError:
        start = timezone.localdate()
    return render(request, "cases/catalog/calendar.html", {
        "form": form, "may_edit": may_edit, "start": start, "outlook": catalog_reads.calendar_outlook(start, OUTLOOK_DAYS),
        "overrides": CalendarOverride.objects.filter(day__gte=timezone.localdate()).order_by("day"),
        "days": OUTLOOK_DAYS})


@staff_required(ADMIN)
@require_POST
def calendar_delete(request, day):
    catalog.delete_calendar_override(staff=request.staff, day=day)
    messages.success(request, _("The local override is removed."))
    return redirect("catalog:catalog-calendar")
