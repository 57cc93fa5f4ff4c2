"""Case pages of the console: the list, the report form, a case with its timeline,
and one POST per workflow action.

Rows come from the selectors (already scoped to the signed-in staff member); every
change goes through one action in ``actions``, which checks role, scope, state and
version again under a row lock. The page offers exactly the actions the actor may
take now (``allowed_actions``); a form posted from an older view of the case gets
the case as it stands, with a message, and changes nothing. Lights come from
``lights`` (one rule for a row in Python and a filter in SQL).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta

import segno
from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.db.models import Case as SqlCase
from django.db.models import DateTimeField, F, Q, QuerySet, When
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.timezone import get_current_timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.views.decorators.http import require_POST

from civicgrid.platform.accounts.access import staff_required
from civicgrid.platform.accounts.staff.models import StaffProfile, StaffRole
from civicgrid.platform.notifications.actions import mark_case_read
from civicgrid.platform.org.models import Department
from civicgrid.platform.org.selectors import units_for
from civicgrid.platform.registry import protection
from civicgrid.platform.registry.selectors import persons_for
from civicgrid.search.query import SearchFilters, SearchUnavailable
from civicgrid.search.selectors import labelled_facets, search_cases
from civicgrid.tenants import replicas

from . import actions, rules, selectors
from .forms import (
    CaseFilterForm,
    CommentForm,
    DispatchForm,
    DuplicateForm,
    ExtensionDecisionForm,
    ExtensionRequestForm,
    HandleForm,
    RateForm,
    ReasonForm,
    ReportForm,
    SuperviseForm,
    TransferCountyForm,
    TransferForm,
    category_label,
)
from .lights import LIGHT_TEXT, light_of, with_lights
from .models import OPEN_STATUSES, Case, Status

PAGE_SIZE = 25
HANDLING = (Status.DISPATCHED, Status.IN_PROGRESS)
STATUS_LABELS = dict(Status.choices)
# Who sees the reporter's phone (masked): those who call reporters back.
PHONE_ROLES = {StaffRole.COUNTY_ADMIN, StaffRole.COMMAND_OPERATOR, StaffRole.TOWNSHIP_OPERATOR,
               StaffRole.COMMUNITY_OPERATOR}


# --- deadlines -------------------------------------------------------------------------


def _current_due():
    """The deadline that is running now: accepting, or handling."""
    return SqlCase(When(status=Status.REPORTED, then=F("accept_due")),
                   When(status__in=HANDLING, then=F("handle_due")), default=None, output_field=DateTimeField())


# --- the list ---------------------------------------------------------------------------


def _filtered(cases: QuerySet[Case], filters: dict, staff: StaffProfile, now) -> QuerySet[Case]:
    text = filters.get("q", "").strip()
    if text:
        # The database's own filter: the search engine answers first when it can (``_search``).
        cases = cases.filter(Q(number__icontains=text) | Q(title__icontains=text) | Q(description__icontains=text))
    status = filters.get("status")
    if status == "open":
        cases = cases.filter(status__in=OPEN_STATUSES)
    elif status:
        cases = cases.filter(status=status)
    if filters.get("light"):
        cases = with_lights(cases, now).filter(light=filters["light"])
    if filters.get("category"):
        cases = cases.filter(category__code=filters["category"])
    if filters.get("kind"):
        cases = cases.filter(category__parent__code=filters["kind"])
    if filters.get("source"):
        cases = cases.filter(source=filters["source"])
    if filters.get("reported_from"):
        start = datetime.combine(filters["reported_from"], time.min, get_current_timezone())
        cases = cases.filter(reported_at__gte=start)
    if filters.get("reported_to"):
        end = datetime.combine(filters["reported_to"] + timedelta(days=1), time.min, get_current_timezone())
        cases = cases.filter(reported_at__lt=end)
    if filters.get("department"):
        cases = cases.filter(department__code=filters["department"])
    if filters.get("grid"):
        unit = units_for(staff).get(code=filters["grid"])  # the form offered only these
        cases = cases.filter(org_path__startswith=unit.path)
    if filters.get("mine"):
        cases = cases.filter(reporter=staff.user)
    cases = cases.annotate(current_due=_current_due())
    return cases.order_by(*SORTS.get(filters.get("sort") or "deadline", SORTS["deadline"]))


# The list's orders; every one ends on the primary key so pages never overlap.
SORTS = {
    "deadline": (F("current_due").asc(nulls_last=True), "-reported_at", "-pk"),
    "-deadline": (F("current_due").desc(nulls_last=True), "-reported_at", "-pk"),
    "newest": ("-reported_at", "-pk"),
    "oldest": ("reported_at", "pk"),
    "number": ("number", "pk"),
    "-number": ("-number", "-pk"),
    "status": ("status", "-reported_at", "-pk"),
    "category": ("category__code", "-reported_at", "-pk"),
}
# Column → (sort ascending, sort descending) for the clickable headers.
SORTABLE_COLUMNS = {"deadline": ("deadline", "-deadline"), "number": ("number", "-number"),
                    "reported": ("oldest", "newest"), "status": ("status", "status"),
                    "category": ("category", "category")}


def _sort_links(request, chosen: str) -> dict[str, dict]:
    """For each sortable column: the address that sorts by it (the other way if it already
    does), and which way it sorts now; the other filters stay in the query string."""
    query = request.GET.copy()
    query.pop("page", None)
    links = {}
    for column, (ascending, descending) in SORTABLE_COLUMNS.items():
        current = "asc" if chosen == ascending else "desc" if chosen == descending else ""
        query["sort"] = descending if current == "asc" else ascending
        links[column] = {"url": f"?{query.urlencode()}", "dir": current}
    return links


@staff_required()
def case_list(request):
    # A search only reads: from the replica where there is one. The plain list stays on the
    # primary: members act on what it shows.
    if request.GET.get("q", "").strip():
        return replicas.answer_from_replica(lambda: _case_list(request), user=request.user)
    return _case_list(request)


def _case_list(request):
    staff = request.staff
    form = CaseFilterForm(request.GET or None, staff=staff)
    now = timezone.now()
    valid = form.is_bound and form.is_valid()
    chosen = form.filters() if valid else {}
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "query": query.urlencode(), "may_report": staff.role in rules.REPORTER_ROLES,
               "active_filters": len([key for key in chosen if key not in ("sort", "q")])}
    text = chosen.get("q", "").strip()
    if text and not selectors.cases_for(staff).filter(number=text).exists():
        try:
            return render(request, "cases/case_list.html", {**context, **_search(request, text, chosen, now)})
        except SearchUnavailable:
            context["search_degraded"] = True
    if form.is_bound and not valid:
        cases = Case.objects.none()
    else:
        cases = _filtered(selectors.cases_for(staff), chosen, staff, now)
    page = Paginator(cases, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "cases/case_list.html", {
        **context, "page": page, "rows": [_row(case, now) for case in page.object_list],
        "sort_links": _sort_links(request, chosen.get("sort") or "deadline")})


class _SearchPage:
    """What ``Paginator`` pages offer the template, for hits the engine already paged."""

    def __init__(self, number: int, total: int, exact: bool = True):
        self.number, self.total, self.exact = number, total, exact
        self.num_pages = max(1, -(-total // PAGE_SIZE))
        self.paginator = self

    @property
    def count(self):
        return self.total

    def has_previous(self):
        return self.number > 1

    def has_next(self):
        return self.number < self.num_pages

    def has_other_pages(self):
        return self.num_pages > 1

    def previous_page_number(self):
        return self.number - 1

    def next_page_number(self):
        return self.number + 1


def _search(request, text: str, chosen: dict, now) -> dict:
    """Ranked hits with highlights, the facets of all matches, and "did you mean"."""
    staff = request.staff
    try:
        number = max(1, int(request.GET.get("page", 1)))
    except ValueError:
        number = 1
    found = search_cases(staff, text, _search_filters(chosen, staff), offset=(number - 1) * PAGE_SIZE,
                         limit=PAGE_SIZE, now=now)
    query = request.GET.copy()
    query.pop("page", None)
    facets = []
    for name, values in labelled_facets(found.facets).items():
        links = []
        for value in values:
            narrowed = query.copy()
            narrowed[name] = value.value
            links.append({"label": value.label, "count": value.count, "query": narrowed.urlencode(),
                          "chosen": chosen.get(name) == value.value})
        if links:
            facets.append({"name": name, "title": FACET_TITLES[name], "values": links})
    rows = []
    for item in found.found:
        row = _row(item.case, now)
        row["highlight"] = {key: mark_safe(html) for key, html in item.highlight.items()}  # escaped by the highlighter
        rows.append(row)
    return {"page": _SearchPage(number, found.total, found.total_is_exact), "rows": rows, "searching": text, "facets": facets,
            "suggestions": [{"text": hint, "query": _with_q(query, hint)} for hint in found.suggestions]}


def _with_q(query, text: str) -> str:
    changed = query.copy()
    changed["q"] = text
    return changed.urlencode()


def _search_filters(chosen: dict, staff: StaffProfile) -> SearchFilters:
    status = chosen.get("status", "")
    department = chosen.get("department")
    grid = units_for(staff).filter(code=chosen["grid"]).first() if chosen.get("grid") else None
    return SearchFilters(
        statuses=tuple(OPEN_STATUSES) if status == "open" else ((status,) if status else ()),
        category=chosen.get("category", ""), light=chosen.get("light", ""),
        department_id=(Department.objects.filter(code=department).values_list("pk", flat=True).first() or 0)
        if department else None,
        org_path=grid.path if grid else "", reporter_id=staff.user_id if chosen.get("mine") else None)


FACET_TITLES = {"status": _l("Status"), "category": _l("Category"), "source": _l("Source"),
                "department": _l("Department"), "light": _l("Light")}


def _row(case: Case, now) -> dict:
    light = light_of(case, now)
    return {"case": case, "light": light, "light_text": LIGHT_TEXT.get(light, ""),
            "category": category_label(case.category), "due": getattr(case, "current_due", None)}


# --- reporting ----------------------------------------------------------------------------


@staff_required(*rules.REPORTER_ROLES)
def case_new(request):
    staff = request.staff
    form = ReportForm(request.POST or None, request.FILES or None, staff=staff)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                case = _report(request, form)
            except ValidationError as problems:
                form.add_action_errors(_message_dict(problems))
            else:
                messages.success(request, _("Case %(number)s is reported.")
                                 % {"number": case.number})
                return redirect(_after_change(staff, case))
        status = 400
    return render(request, "cases/case_form.html", {
        "form": form,
        # A browser cannot keep chosen files across a refused form: say so.
        "photos_dropped": status == 400 and bool(request.FILES.getlist("photos")),
    }, status=status)


def _report(request, form: ReportForm) -> Case:
    """The case and its photos together: a refused photo stores no case, and no case loses its photos."""
    data = form.cleaned_data
    return actions.report_case(
        staff=request.staff, category=data["category"], title=data["title"], description=data["description"],
        source=form.report_source(), latitude=data["latitude"], longitude=data["longitude"], address=data["address"],
        urgency=data["urgency"], reporter_name=data.get("reporter_name", ""),
        reporter_phone=data.get("reporter_phone", ""), actor=request.user, photos=data["photos"])


def _message_dict(error: ValidationError) -> dict:
    return error.message_dict if hasattr(error, "error_dict") else {"__all__": error.messages}


def _after_change(staff: StaffProfile, case: Case) -> str:
    """The case's page, or the list when the actor no longer sees the case (a report located outside their grid)."""
    if selectors.cases_for(staff).filter(pk=case.pk).exists():
        return reverse("case-detail", kwargs={"pk": case.pk})
    return reverse("case-list")


# --- the workflow actions ---------------------------------------------------------------


def _who(request, case: Case, version: int) -> dict:
    return {"staff": request.staff, "case_id": case.pk, "version": version}


def _handle(request, case, version, data) -> Case:
    """The result and its photos in one transaction, the photos on the handling step of the timeline."""
    return actions.handle_case(**_who(request, case, version), result=data["result"], photos=data["photos"])


def _link_duplicate(request, case, version, data) -> Case:
    number = data["original"].strip()
    original = selectors.cases_for(request.staff).filter(number=number).values_list("pk", flat=True).first()
    if original is None:
        raise ValidationError({"original": _("No case with this tracking number is in your scope.")})
    return actions.link_duplicate(**_who(request, case, version), original_id=original)


@dataclass(frozen=True)
class ActionForm:
    label: str  # the button
    form: type[forms.Form]
    run: Callable  # (request, case, version, cleaned data) -> Case
    needs_case: bool = False  # the form's choices depend on the actor and the case
    files: bool = False


# In the order the page offers them.
ACTIONS: dict[str, ActionForm] = {
    "accept": ActionForm(_l("Accept"), CommentForm, lambda r, c, v, d: actions.accept_case(
        **_who(r, c, v), comment=d["comment"])),
    "dispatch": ActionForm(_l("Dispatch"), DispatchForm, lambda r, c, v, d: actions.dispatch_case(
        **_who(r, c, v), department=d["department"] or None, comment=d["comment"]), needs_case=True),
    "start": ActionForm(_l("Start handling"), CommentForm, lambda r, c, v, d: actions.start_case(
        **_who(r, c, v), comment=d["comment"])),
    "handle": ActionForm(_l("Report as handled"), HandleForm, _handle, files=True),
    "request_extension": ActionForm(_l("Ask for more time"), ExtensionRequestForm,
                                    lambda r, c, v, d: actions.request_extension(
                                        **_who(r, c, v), hours=d["hours"], reason=d["reason"])),
    "return": ActionForm(_l("Return to the dispatcher"), ReasonForm, lambda r, c, v, d: actions.return_case(
        **_who(r, c, v), reason=d["reason"])),
    "decide_extension": ActionForm(_l("Decide on the extension"), ExtensionDecisionForm,
                                   lambda r, c, v, d: actions.decide_extension(
                                       **_who(r, c, v), grant=d["grant"], comment=d["comment"])),
    "rate": ActionForm(_l("Record the rating"), RateForm, lambda r, c, v, d: actions.rate_case(
        **_who(r, c, v), rating=d["rating"], comment=d["comment"])),
    "close": ActionForm(_l("Close"), CommentForm, lambda r, c, v, d: actions.close_case(
        **_who(r, c, v), comment=d["comment"])),
    "transfer": ActionForm(_l("Transfer to another department"), TransferForm,
                           lambda r, c, v, d: actions.transfer_case(
                               **_who(r, c, v), department=d["department"], reason=d["reason"]), needs_case=True),
    "transfer_tenant": ActionForm(_l("Transfer to another county"), TransferCountyForm,
                                  lambda r, c, v, d: actions.transfer_to_tenant(
                                      **_who(r, c, v), division_code=d["division_code"], reason=d["reason"]),
                                  needs_case=True),
    "escalate": ActionForm(_l("Escalate one level up"), ReasonForm, lambda r, c, v, d: actions.escalate_case(
        **_who(r, c, v), reason=d["reason"])),
    "supervise": ActionForm(_l("Supervise"), SuperviseForm, lambda r, c, v, d: actions.supervise_case(
        **_who(r, c, v), order=d["order"], due_at=d["due_at"], card=d["card"])),
    "reopen": ActionForm(_l("Reopen"), ReasonForm, lambda r, c, v, d: actions.reopen_case(
        **_who(r, c, v), reason=d["reason"])),
    "link_duplicate": ActionForm(_l("Link as a duplicate"), DuplicateForm, _link_duplicate),
    "reject": ActionForm(_l("Not a case: reject"), ReasonForm, lambda r, c, v, d: actions.reject_case(
        **_who(r, c, v), reason=d["reason"])),
}


# Steps that move a case along its ordinary way.
FORWARD = {"accept", "dispatch", "start", "handle", "decide_extension", "rate", "close"}


def allowed_actions(staff: StaffProfile, case: Case, *, extension_waiting: bool | None = None) -> list[str]:
    """The actions this actor may take on the case as it stands, in the order the page shows them."""
    open_now = selectors.open_actions(staff, case, extension_waiting=extension_waiting)
    return [name for name in ACTIONS if name in open_now]


def _blank_form(name: str, staff: StaffProfile, case: Case) -> forms.Form:
    spec = ACTIONS[name]
    return spec.form(staff=staff, case=case) if spec.needs_case else spec.form()


def _posted_version(request) -> int | None:
    try:
        return int(request.POST.get("version", ""))
    except ValueError:
        return None


@staff_required()  # outermost: another tenant's user gets 404 whatever the method
@require_POST
def case_action(request, pk, action):
    staff = request.staff
    case = selectors.case_for(staff, pk)
    spec = ACTIONS.get(action)
    if spec is None:
        raise Http404
    extra = {"staff": staff, "case": case} if spec.needs_case else {}
    form = spec.form(request.POST, request.FILES if spec.files else None, **extra)
    version = _posted_version(request)
    if version != case.version:
        # Checked before the role: the level or the department may be what changed.
        return _detail_page(request, case, bound={action: form}, status=409, conflict=_(
            "Someone else changed this case while you had it open, so nothing was done. "
            "It is shown below as it is now: check it and try again."))
    if not rules.may_act(staff, action, case):
        raise Http404
    if not form.is_valid():
        return _detail_page(request, case, bound={action: form}, status=400)
    try:
        changed = spec.run(request, case, version, form.cleaned_data)
    except ValidationError as problems:
        for field, errors in _message_dict(problems).items():
            for message in errors:
                form.add_error(field if field in form.fields else None, message)
        return _detail_page(request, case, bound={action: form}, status=400)
    except actions.CaseConflict as conflict:
        return _detail_page(request, selectors.case_for(staff, pk), bound={action: form}, status=409,
                            conflict=conflict.message)
    messages.success(request, _("Case %(number)s: %(done)s.") % {"number": changed.number,
                                                                  "done": DONE_LABELS[action]})
    return redirect(_after_change(staff, changed))


# --- one case -----------------------------------------------------------------------------


@staff_required()
def case_detail(request, pk):
    case = selectors.case_for(request.staff, pk)
    mark_case_read(user=request.user, case=case)  # opening the case reads what was said of it
    return _detail_page(request, case)


def _detail_page(request, case: Case, *, bound: dict | None = None, conflict: str = "", status: int = 200):
    staff, now = request.staff, timezone.now()
    bound = bound or {}
    extensions = list(case.extensions.select_related("requested_by", "decided_by").order_by("-created_at"))
    names = allowed_actions(staff, case, extension_waiting=any(item.granted is None for item in extensions))
    action_forms = [{
        "name": name, "label": ACTIONS[name].label, "files": ACTIONS[name].files,
        "url": reverse("case-action", kwargs={"pk": case.pk, "action": name}),
        "form": bound.get(name) or _blank_form(name, staff, case),
        # The step that moves the case on is opened; side steps (transfer, escalate …) wait for a click.
        "open": name in bound or (not bound and index == 0 and name in FORWARD),
    } for index, name in enumerate(names)]
    light = light_of(case, now)
    files = list(case.attachments.select_related("event").order_by("created_at", "pk"))
    return render(request, "cases/case_detail.html", {
        "case": case, "light": light, "light_text": LIGHT_TEXT.get(light, ""),
        "category": category_label(case.category), "conflict": conflict, "action_forms": action_forms,
        "reporter_phone": _masked_phone(staff, case),
        "persons": _persons(staff, case), "places": list(case.places.all()),
        "images": [f for f in files if f.kind == "image"], "documents": [f for f in files if f.kind != "image"],
        "events": [_event(e, files) for e in case.events.all()],
        "supervisions": list(case.supervisions.select_related("issued_by").order_by("-issued_at")),
        "extensions": extensions,
        "duplicates": list(selectors.cases_for(staff).filter(duplicate_of=case)),
        "original": selectors.cases_for(staff).filter(pk=case.duplicate_of_id).first()
        if case.duplicate_of_id else None,
        "case_map": _case_map(case),
        "follow": _follow_link(request, staff, case),
    }, status=status)


def _case_map(case: Case) -> dict | None:
    """The pin and the grid's polygon for the case page's small map (none without either)."""
    boundary = case.grid.boundary if case.grid_id else None
    if case.latitude is None and not boundary:
        return None
    return {"boundary": boundary, "grid": case.grid.name if case.grid_id else "",
            "point": [case.longitude, case.latitude] if case.latitude is not None else None}


def _follow_link(request, staff: StaffProfile, case: Case) -> dict | None:
    """The reporter's link (follow and rate, no sign-in) and its QR code, for the command centre
    to read out or hand over; others do not see it."""
    if staff.role not in FOLLOW_LINK_ROLES:
        return None
    url = request.build_absolute_uri(reverse("case-follow", kwargs={"token": case.token}))
    return {"url": url, "qr": segno.make(url, error="m").svg_inline(scale=3, title=_("QR code of the reporter's link"))}


FOLLOW_LINK_ROLES = {StaffRole.COUNTY_ADMIN, StaffRole.COMMAND_OPERATOR}


def _masked_phone(staff: StaffProfile, case: Case) -> str:
    if staff.role not in PHONE_ROLES or not case.reporter_phone_encrypted:
        return ""
    return protection.mask_phone(protection.decrypt(bytes(case.reporter_phone_encrypted)))


def _persons(staff: StaffProfile, case: Case) -> list[dict]:
    """Linked persons: a link for those in the actor's registry scope, a masked name for the rest."""
    persons = list(case.persons.all())
    if not persons:
        return []
    visible = set(persons_for(staff).filter(pk__in=[p.pk for p in persons]).values_list("pk", flat=True))
    return [{"name": p.name, "url": reverse("registry-person", kwargs={"pk": p.pk})} if p.pk in visible
            else {"name": protection.mask_name(p.name), "url": ""} for p in persons]


# The timeline's words (lazy: translated when shown).
DONE_LABELS = actions.ACTION_LABELS


def _event(event, files: list) -> dict:
    """One timeline entry; ``files`` are the case's attachments, already read (no query per entry)."""
    label = DONE_LABELS.get(event.action, event.action)
    moved = event.from_status and event.from_status != event.to_status
    return {"event": event, "label": label, "files": [f for f in files if f.event_id == event.pk],
            "from": STATUS_LABELS.get(event.from_status, event.from_status) if moved else "",
            "to": STATUS_LABELS.get(event.to_status, event.to_status) if moved else ""}


# --- photos and documents ---------------------------------------------------------------


@staff_required()
def case_file(request, pk, attachment, thumbnail=False):
    """A case's file, to those who may see the case; never a public storage URL."""
    case = selectors.case_for(request.staff, pk)
    item = case.attachments.filter(pk=attachment).first()
    if item is None or (thumbnail and item.kind != "image"):
        raise Http404
    # An image's thumbnail is made by the worker after the report: until then, the photo itself.
    small = thumbnail and bool(item.thumbnail)
    name = item.thumbnail if small else item.file
    try:
        handle = default_storage.open(name)
    except OSError as exc:
        raise Http404 from exc
    inline = thumbnail or item.kind == "image"
    response = FileResponse(handle, content_type="image/jpeg" if small else item.content_type,
                            as_attachment=not inline, filename=item.original_name or name.rsplit("/", 1)[-1])
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def case_thumbnail(request, pk, attachment):
    return case_file(request, pk, attachment, thumbnail=True)
