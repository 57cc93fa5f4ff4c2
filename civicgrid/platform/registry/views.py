"""Registry pages of the console: counts, searchable lists, the person page and unmasking.

Rows come from the selectors (already scoped to the signed-in staff member);
tables are rendered from ``exports.COLUMNS``, so what a page shows is exactly what
an export of the same list contains, masked the same way.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from civicgrid.platform.accounts.access import staff_required

from . import actions, selectors
from .anonymisation import anonymise_person
from .exports import COLUMNS, table_rows
from .forms import (
    AnonymiseForm,
    CareRecordSearchForm,
    PersonCreateForm,
    PersonIndexFilters,
    PersonSearchForm,
    RegistrySearchForm,
    UnmaskForm,
)
from .models import Building, CareRecord, House, Household, Organisation, Person, Place, Thing

PAGE_SIZE = 50
CHANNEL = "console"

# Kind → the URL segment shared by the console page and its API (``api-registry-<plural>``).
PLURALS = {Person: "persons", Household: "households", Building: "buildings", House: "houses", Place: "places",
           Organisation: "organisations", Thing: "things", CareRecord: "care-records"}


def _sections(current=None) -> list[dict]:
    """The registry's navigation: one entry per kind of record."""
    return [{"label": model._meta.verbose_name_plural, "url": reverse(f"registry-{plural}"),
             "current": model is current} for model, plural in PLURALS.items()]


def _search(form) -> dict | None:
    """Filters from a search form: all rows when nothing was asked, none when the question is wrong."""
    if not form.is_bound:
        return {}
    return form.filters() if form.is_valid() else None


def _list_page(request, *, model, form, rows, links=None, status=200):
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    records = list(page.object_list)
    # Person rows carry their care groups; care rows are records themselves.
    shown = [c for r in records for c in getattr(r, "visible_care", [])] if model is Person else (
        records if model is CareRecord else [])
    actions.record_sensitive_read(staff=request.staff, records=shown, channel=CHANNEL)
    query = request.GET.copy()
    query.pop("page", None)
    plural = PLURALS[model]
    return render(request, "registry/object_list.html", {
        "title": model._meta.verbose_name_plural, "sections": _sections(model), "form": form, "page": page,
        "headers": [c.header for c in COLUMNS[model]],
        "rows": list(zip([links(r) if links else None for r in records], table_rows(records, COLUMNS[model]),
                         strict=True)),
        "query": query.urlencode(),
        "export_csv": reverse(f"api-registry-{plural}-export", kwargs={"fmt": "csv"}),
        "export_xlsx": reverse(f"api-registry-{plural}-export", kwargs={"fmt": "xlsx"}),
        "create_url": reverse("registry-person-create")
        if model is Person and selectors.can_write(request.staff) else "",
        "search_method": "post" if model is Person else "get",
        "searched_by_number": model is Person and any(k in request.GET for k in ("id_number_index", "phone_index")),
    }, status=status)


@staff_required()
def home(request):
    counts = selectors.registry_counts(request.staff)
    return render(request, "registry/home.html", {
        "sections": _sections(),
        "counts": [{**section, "count": counts[model]} for section, model in zip(_sections(), PLURALS, strict=True)],
        "care_kinds": selectors.care_kinds_for(request.staff),
    })


@staff_required()
def person_list(request):
    """The search is posted and answered by a redirect to a results page whose URL carries
    a blind index instead of an ID number or phone: no number reaches an access log, the
    browser's history or a Referer. A link with the numbers themselves is redirected too."""
    if request.method == "POST" or "id_number" in request.GET or "phone" in request.GET:
        form = PersonSearchForm(request.POST if request.method == "POST" else request.GET, staff=request.staff)
        if form.is_valid():
            return HttpResponseRedirect(f"{reverse('registry-persons')}?{urlencode(form.query_without_numbers())}",
                                        status=303)
        return _list_page(request, model=Person, form=form, rows=Person.objects.none(), status=400)
    form = PersonSearchForm(request.GET or None, staff=request.staff)
    filters = _search(form)
    indexes = PersonIndexFilters(request.GET)
    if filters is not None:
        filters = ({**filters, **{k: v for k, v in indexes.cleaned_data.items() if v}} if indexes.is_valid()
                   else None)
    rows = Person.objects.none() if filters is None else selectors.with_visible_care(
        request.staff, selectors.search_registry(request.staff, Person, **filters))
    return _list_page(request, model=Person, form=form, rows=rows,
                      links=lambda p: reverse("registry-person", kwargs={"pk": p.pk}))


def _grid_bound_list(model):
    @staff_required()
    def view(request):
        form = RegistrySearchForm(request.GET or None, staff=request.staff)
        filters = _search(form)
        rows = model.objects.none() if filters is None else selectors.search_registry(request.staff, model,
                                                                                      **filters)
        return _list_page(request, model=model, form=form, rows=rows)

    view.__name__ = view.__qualname__ = f"{PLURALS[model].replace('-', '_')}_list"
    return view


household_list = _grid_bound_list(Household)
building_list = _grid_bound_list(Building)
house_list = _grid_bound_list(House)
place_list = _grid_bound_list(Place)
organisation_list = _grid_bound_list(Organisation)
thing_list = _grid_bound_list(Thing)


@staff_required()
def care_record_list(request):
    form = CareRecordSearchForm(request.GET or None, staff=request.staff)
    filters = _search(form)
    rows = CareRecord.objects.none() if filters is None else selectors.search_care_records(request.staff, **filters)
    return _list_page(request, model=CareRecord, form=form, rows=rows,
                      links=lambda r: reverse("registry-person", kwargs={"pk": r.person_id}))


def _person_page(request, person, *, unmask_form=None, unmasked=None, anonymise_form=None, status=200):
    staff = request.staff
    care = list(selectors.care_records_for(staff).filter(person=person).order_by("kind__code"))
    actions.record_sensitive_read(staff=staff, records=care, channel=CHANNEL)
    members = (selectors.persons_for(staff).filter(household=person.household).exclude(pk=person.pk)
               if person.household_id else Person.objects.none())
    may_unmask = selectors.can_unmask(staff)
    response = render(request, "registry/person_detail.html", {
        "sections": _sections(Person), "person": person, "members": members,
        "houses": selectors.houses_of(staff, person),
        "care": [(record, _labelled(record)) for record in care],
        "may_unmask": may_unmask,
        "unmask_form": unmask_form or (UnmaskForm() if may_unmask else None),
        "unmasked": unmasked,
        "anonymise_form": (anonymise_form or AnonymiseForm()) if selectors.can_write(staff)
        and person.anonymised_at is None else None,
    }, status=status)
    if unmasked:
        # The clear value is shown once: no browser or proxy may keep the page.
        add_never_cache_headers(response)
    return response


def _labelled(record: CareRecord) -> list[tuple[str, object]]:
    labels = {f["name"]: f.get("label", f["name"]) for f in record.kind.fields}
    return [(labels.get(name, name), value) for name, value in record.values.items()]


@staff_required()
def person_detail(request, pk):
    return _person_page(request, selectors.access(request.staff, Person, pk))


@staff_required()  # outermost: another tenant's user gets 404 whatever the method
@require_POST
def person_unmask(request, pk):
    """Shows one protected value in clear in this response only; the action audits it."""
    person = selectors.access(request.staff, Person, pk)
    form = UnmaskForm(request.POST)
    if not form.is_valid():
        return _person_page(request, person, unmask_form=form, status=400)
    try:
        value = actions.unmask(staff=request.staff, person=person, field=form.cleaned_data["field"],
                               purpose=form.cleaned_data["purpose"])
    except ValidationError as exc:
        form.add_action_error(exc)
        return _person_page(request, person, unmask_form=form, status=400)
    label = dict(form.fields["field"].choices)[form.cleaned_data["field"]]
    return _person_page(request, person, unmask_form=UnmaskForm(),
                        unmasked={"label": label, "value": value})


@staff_required()  # outermost: another tenant's user gets 404 whatever the method
@require_POST
def person_anonymise(request, pk):
    """Erase the person's data on request (PIPL), after a stated reason and a confirmation."""
    person = selectors.access(request.staff, Person, pk)
    if not selectors.can_write(request.staff):
        raise Http404
    form = AnonymiseForm(request.POST)
    if not form.is_valid():
        return _person_page(request, person, anonymise_form=form, status=400)
    try:
        anonymise_person(staff=request.staff, person=person, reason=form.cleaned_data["reason"])
    except ValidationError as exc:
        for message in exc.messages:
            form.add_error("reason", message)
        return _person_page(request, person, anonymise_form=form, status=400)
    return redirect("registry-person", person.pk)


@staff_required()
def person_create(request):
    """Register a person in one of the actor's grids (a grid worker's household visit)."""
    if not selectors.can_write(request.staff):
        raise Http404
    from civicgrid.platform.org.selectors import grids_for

    form = PersonCreateForm(request.POST or None, grids=list(grids_for(request.staff)))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            person = actions.create_person(
                staff=request.staff, name=data["name"], id_number=data["id_number"], phone=data["phone"],
                grid=form.grids[data["grid"]], residence=data["residence"],
                registered_address=data["registered_address"], actual_address=data["actual_address"])
        except ValidationError as problems:
            for field, messages in problems.message_dict.items():
                for message in messages:
                    form.add_error(field if field in form.fields else None, message)
        else:
            return redirect("registry-person", person.pk)
    return render(request, "registry/person_form.html", {"form": form, "sections": _sections(Person)})
