"""Console pages: the org tree, a unit with its grids drawn, departments, staff
and the two imports. Every page reads through the selectors, so each role sees
only its own part of the tree; missing and forbidden are the same 404."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from civicgrid.platform.accounts.access import staff_required
from civicgrid.platform.accounts.actions import create_staff_member
from civicgrid.platform.accounts.staff.models import StaffRole

from . import imports, selectors
from .actions import create_department
from .forms import DepartmentForm, StaffForm, UploadForm
from .geometry import draw
from .models import OrgUnit

ADMIN = StaffRole.COUNTY_ADMIN


def _is_admin(request) -> bool:
    return request.staff.role == ADMIN


@staff_required()
def tree(request):
    units = sorted(selectors.tree_for(request.staff), key=lambda u: u.path)
    by_pk = {u.pk: u for u in units}
    for unit in units:
        unit.kids = []
    roots = []
    for unit in units:
        parent = by_pk.get(unit.parent_id)
        (parent.kids if parent else roots).append(unit)
    for root in roots:
        _add_totals(root)
    return render(request, "org/tree.html", {
        "roots": roots, "unit_count": len(units), "is_admin": _is_admin(request),
    })


def _add_totals(unit: OrgUnit) -> None:
    """Staff and grids in the unit's whole visible subtree."""
    for kid in unit.kids:
        _add_totals(kid)
    unit.staff_total = unit.staff_count + sum(k.staff_total for k in unit.kids)
    unit.grid_total = (unit.level == OrgUnit.Level.GRID) + sum(k.grid_total for k in unit.kids)


@staff_required()
def unit(request, code):
    try:
        current = selectors.tree_for(request.staff).get(code=code)
    except OrgUnit.DoesNotExist as exc:
        raise Http404 from exc
    visible = selectors.units_for(request.staff)
    if current.level == OrgUnit.Level.GRID:
        # The grid among its neighbours under the same community, as far as the actor may see them.
        shown = visible.filter(level=OrgUnit.Level.GRID, parent_id=current.parent_id)
    else:
        shown = visible.filter(level=OrgUnit.Level.GRID, path__startswith=current.path)
    grids = {g.code: g for g in shown.exclude(boundary__isnull=True)}
    drawing = draw([(code, g.boundary) for code, g in grids.items()])
    if drawing:
        for drawn in drawing.shapes:
            drawn.unit = grids[drawn.key]
            drawn.current = drawn.key == current.code
    return render(request, "org/unit.html", {
        "unit": current,
        "ancestors": visible.filter(pk__in=_ancestor_pks(current)).order_by("path"),
        "children": selectors.tree_for(request.staff).filter(parent=current),
        "drawing": drawing,
        "grid_count": len(grids),
        "workers": selectors.grid_workers(current) if current.level == OrgUnit.Level.GRID else None,
        "members": selectors.staff_for(request.staff).filter(scope_org_unit=current),
    })


def _ancestor_pks(unit: OrgUnit) -> list[int]:
    codes = unit.path.strip("/").split("/")[:-1]
    return list(OrgUnit.objects.filter(code__in=codes).values_list("pk", flat=True))


@staff_required()
def departments(request):
    form = None
    if _is_admin(request):
        form = DepartmentForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                department = create_department(code=data["code"].strip(), name=data["name"].strip(),
                                               level=data["level"], township=data["township"],
                                               acting_user=request.user)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("Department %(name)s created.") % {"name": department.name})
                return redirect("org:org-departments")
    elif request.method == "POST":
        raise Http404
    return render(request, "org/departments.html", {
        "departments": selectors.departments_for(request.staff), "form": form,
    })


@staff_required()
def staff(request):
    form = None
    if _is_admin(request):
        form = StaffForm(request.POST or None, staff=request.staff)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                with transaction.atomic():
                    member = create_staff_member(
                        username=data["username"], password=data["password"], full_name=data["full_name"],
                        role=data["role"], scope_org_unit=data["scope_org_unit"],
                        scope_department=data["scope_department"], acting_user=request.user)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("Staff member %(username)s created.") % {
                    "username": member.user.username})
                return redirect("org:org-staff")
    elif request.method == "POST":
        raise Http404
    return render(request, "org/staff.html", {"members": selectors.staff_for(request.staff), "form": form})


def _import_page(request, *, run, title: str, help_text: str, example: str):
    form = UploadForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        result = run(data=form.cleaned_data["file"].read(), acting_user=request.user)
        if result.ok:
            messages.success(request, _("Imported: %(created)d created, %(updated)d updated, "
                                        "%(unchanged)d unchanged.") % {
                "created": len(result.created), "updated": len(result.updated),
                "unchanged": len(result.unchanged)})
            return redirect(request.path)
    return render(request, "org/import.html", {
        "form": form, "result": result, "title": title, "help_text": help_text, "example": example,
        "tree_url": reverse("org:org-tree"),
    })


@staff_required(ADMIN)
def import_tree(request):
    return _import_page(
        request, run=imports.import_tree, title=_("Import the org tree"),
        help_text=_("A CSV file (UTF-8 or GBK) with the columns code, name, parent_code. A row without a parent "
                    "is a township or street, below it a village or community, below that a grid. Nothing is "
                    "applied unless every row is right; rows already in the tree are left as they are."),
        example="code,name,parent_code\nT03,城南街道,\nT03-C01,春风社区,T03\nT03-C01-G01,春风社区第1网格,T03-C01",
    )


@staff_required(ADMIN)
def import_grids(request):
    return _import_page(
        request, run=imports.import_grids, title=_("Import grid boundaries"),
        help_text=_("A GeoJSON FeatureCollection (longitude, latitude in WGS 84). Each feature's property code "
                    "names an existing grid; to create a grid, give code, name and parent_code (a village or "
                    "community). Nothing is applied unless every feature is right."),
        example='{"type": "FeatureCollection", "features": [{"type": "Feature", '
                '"properties": {"code": "T01-C01-G01"}, "geometry": {"type": "Polygon", "coordinates": '
                '[[[120.17, 30.24], [120.18, 30.24], [120.18, 30.25], [120.17, 30.25], [120.17, 30.24]]]}}]}',
    )
