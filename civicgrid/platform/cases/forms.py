"""Console forms for cases: the list's filters, the report form and one small form per workflow action.

The forms only shape input; every rule (required reasons, valid locations, which
photos are acceptable, who may act) lives in ``actions`` and ``attachments``, so
the console, the API and Open311 refuse the same things with the same words.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _l

from civicgrid.platform.accounts.staff.models import StaffRole
from civicgrid.platform.org.selectors import departments_for, units_for

from .models import Category, Source, Status, Supervision, Urgency
from .selectors import leaf_categories

INDENT = "\u3000"  # an ideographic space: indents evenly among Chinese names

# Where a report typed in at the console came from; residents' and Open311 reports arrive by their own channels.
CONSOLE_SOURCES = [Source.HOTLINE_12345, Source.GRID_WORKER, Source.SMS, Source.WECHAT, Source.POLICE_110,
                   Source.DEPARTMENT, Source.INSPECTION]


def category_label(category: Category) -> str:
    english = (get_language() or "").startswith("en")
    return (category.name_en if english and category.name_en else category.name)


def grouped_categories() -> list[tuple[str, list[tuple[str, str]]]]:
    """Leaf categories under their group's name, for a select with optgroups."""
    groups: dict[int, tuple[str, list]] = {}
    for leaf in leaf_categories().select_related("parent").order_by("parent__sort_order", "parent__code",
                                                                     "sort_order", "code"):
        groups.setdefault(leaf.parent_id, (category_label(leaf.parent), []))[1].append(
            (leaf.code, category_label(leaf)))
    return list(groups.values())


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files from one input; checking them is ``attachments``' job."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [item for item in data if item]
        return [data] if data else []


class CaseFilterForm(forms.Form):
    """The list's filters; every field optional, the query string is shareable."""

    q = forms.CharField(label=_l("Search"), required=False, max_length=100, widget=forms.TextInput(
        attrs={"type": "search", "placeholder": _l("Tracking number, or a few words of the case")}))
    status = forms.ChoiceField(label=_l("Status"), required=False)
    light = forms.ChoiceField(label=_l("Light"), required=False, choices=[
        ("", _l("Any light")), ("red", _l("Red: overdue")), ("yellow", _l("Yellow: due soon")),
        ("green", _l("Green: on time"))])
    category = forms.ChoiceField(label=_l("Category"), required=False)
    kind = forms.ChoiceField(label=_l("Kind of problem"), required=False)
    source = forms.ChoiceField(label=_l("Source"), required=False)
    department = forms.ChoiceField(label=_l("Department"), required=False)
    grid = forms.ChoiceField(label=_l("Area"), required=False)
    reported_from = forms.DateField(label=_l("Reported from"), required=False,
                                    widget=forms.DateInput(attrs={"type": "date"}))
    reported_to = forms.DateField(label=_l("Reported until"), required=False,
                                  widget=forms.DateInput(attrs={"type": "date"}))
    mine = forms.BooleanField(label=_l("Reported by me"), required=False)
    sort = forms.ChoiceField(label=_l("Sort by"), required=False, choices=[
        ("deadline", _l("Nearest deadline first")), ("-deadline", _l("Furthest deadline first")),
        ("newest", _l("Newest first")), ("oldest", _l("Oldest first")), ("number", _l("Number")),
        ("-number", _l("Number, descending")), ("status", _l("Status")), ("category", _l("Category"))])

    def __init__(self, *args, staff, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", _l("Any status")), ("open", _l("Open (not finished)")),
                                         *Status.choices]
        self.fields["category"].choices = [("", _l("Any category")), *grouped_categories()]
        self.fields["kind"].choices = [("", _l("Any kind"))] + [
            (kind.code, category_label(kind)) for kind in Category.objects.filter(parent__isnull=True)]
        self.fields["source"].choices = [("", _l("Any source")), *Source.choices]
        self.fields["department"].choices = [("", _l("Any department"))] + [
            (d.code, d.name) for d in departments_for(staff)]
        self.fields["grid"].choices = [("", _l("All my areas"))] + [
            (u.code, f"{INDENT * (u.path.count('/') - 1)}{u.name}") for u in units_for(staff)]

    def clean(self):
        cleaned = super().clean()
        low, high = cleaned.get("reported_from"), cleaned.get("reported_to")
        if low and high and low > high:
            self.add_error("reported_to", _l("The end comes before the start."))
        return cleaned

    def filters(self) -> dict:
        return {key: value for key, value in self.cleaned_data.items() if value not in (None, "", False)}


class ReportForm(forms.Form):
    """A new case. Grid workers report from a phone: the fields come in the order a
    report is made on the spot, and the location can come from the phone itself."""

    category = forms.ChoiceField(label=_l("Category"))
    title = forms.CharField(label=_l("Title"), max_length=200,
                            widget=forms.TextInput(attrs={"autocomplete": "off"}))
    description = forms.CharField(label=_l("What happened"), required=False, max_length=5000,
                                  widget=forms.Textarea(attrs={"rows": 4}))
    latitude = forms.FloatField(label=_l("Latitude"), required=False, min_value=-90, max_value=90,
                                widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}))
    longitude = forms.FloatField(label=_l("Longitude"), required=False, min_value=-180, max_value=180,
                                 widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}))
    address = forms.CharField(label=_l("Address or landmark"), required=False, max_length=300)
    urgency = forms.ChoiceField(label=_l("Urgency"), required=False,
                                choices=[("", _l("As the category says")), *Urgency.choices])
    photos = MultipleFileField(label=_l("Photos"), widget=MultipleFileInput(
        attrs={"accept": "image/*", "capture": "environment"}))
    source = forms.ChoiceField(label=_l("Received through"), choices=[(s.value, s.label) for s in CONSOLE_SOURCES])
    reporter_name = forms.CharField(label=_l("Caller's name"), required=False, max_length=100)
    reporter_phone = forms.CharField(label=_l("Caller's phone"), required=False, max_length=20,
                                     widget=forms.TextInput(attrs={"inputmode": "tel"}))

    # Grid workers report what they see themselves: no source or caller to enter.
    DESK_FIELDS = ("source", "reporter_name", "reporter_phone")

    def __init__(self, *args, staff, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", _l("Choose a category"))] + grouped_categories()
        self.at_desk = staff.role != StaffRole.GRID_WORKER
        if not self.at_desk:
            for name in self.DESK_FIELDS:
                del self.fields[name]
        elif staff.role == StaffRole.DEPARTMENT_HANDLER:
            self.initial.setdefault("source", Source.DEPARTMENT)
        self.location_errors: list[str] = []

    def report_source(self) -> str:
        return self.cleaned_data.get("source") or ""  # a grid worker's own: the action knows

    def add_action_errors(self, message_dict: dict) -> None:
        """The action's and the attachment check's messages, each beside its field."""
        for field, messages in message_dict.items():
            if field == "location":
                self.location_errors.extend(messages)
                continue
            for message in messages:
                self.add_error(field if field in self.fields else None, message)


# --- one form per workflow action ------------------------------------------------------


def _comment(label=None, rows=2):
    # Optional here: the action says when a reason or result is missing, in one wording for every entry point.
    return forms.CharField(label=label or _l("Comment"), required=False, max_length=2000,
                           widget=forms.Textarea(attrs={"rows": rows}))


class CommentForm(forms.Form):
    comment = _comment()


class ReasonForm(forms.Form):
    reason = _comment(_l("Reason"))


class DispatchForm(forms.Form):
    department = forms.ChoiceField(label=_l("Department"), required=False)
    comment = _comment(_l("Instructions"))

    def __init__(self, *args, staff, case, **kwargs):
        super().__init__(*args, **kwargs)
        from .selectors import open_load_by_department, suggested_department

        suggestion = suggested_department(case.category, case.grid)
        first = (_l("As the routing rule says: %(name)s") % {"name": suggestion.name} if suggestion
                 else _l("Choose a department"))
        # Each department with the cases it holds now, so the dispatcher sees who is swamped.
        load = open_load_by_department()
        self.fields["department"].choices = [("", first)] + [
            (d.code, _l("%(name)s · %(n)d open") % {"name": d.name, "n": load.get(d.pk, 0)})
            for d in departments_for(staff)]
        self.suggestion = suggestion
        self.suggestion_load = load.get(suggestion.pk, 0) if suggestion else None
        if suggestion:
            self.fields["department"].help_text = _l(
                "Suggested by the routing rules for this category and place: %(name)s, now holding %(n)d open "
                "cases. Choose another to overrule it; the first dispatcher answers for the choice.") % {
                "name": suggestion.name, "n": self.suggestion_load}


class TransferForm(forms.Form):
    department = forms.ChoiceField(label=_l("To department"))
    reason = _comment(_l("Reason"))

    def __init__(self, *args, staff, case, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].choices = [("", "—")] + [
            (d.code, d.name) for d in departments_for(staff) if d.pk != case.department_id]


class TransferCountyForm(forms.Form):
    division_code = forms.ChoiceField(label=_l("To county"))
    reason = _comment(_l("Reason"))

    def __init__(self, *args, staff, case, **kwargs):
        from django.db import connection

        from civicgrid.tenants.models import Tenant

        super().__init__(*args, **kwargs)
        here = getattr(connection.tenant, "pk", None)
        self.fields["division_code"].choices = [("", "—")] + [
            (t.division_code, f"{t.name} ({t.division_code})")
            for t in Tenant.objects.filter(level=Tenant.Level.COUNTY, status=Tenant.Status.ACTIVE)
            .exclude(pk=here).order_by("division_code")]


class ExtensionRequestForm(forms.Form):
    hours = forms.DecimalField(label=_l("Extra working hours"), max_digits=6, decimal_places=2,
                               widget=forms.NumberInput(attrs={"step": "0.5", "inputmode": "decimal"}))
    reason = _comment(_l("Reason"))


class ExtensionDecisionForm(forms.Form):
    grant = forms.TypedChoiceField(label=_l("Decision"), coerce=lambda value: value == "yes",
                                   choices=[("yes", _l("Grant the extra time")), ("no", _l("Refuse"))],
                                   widget=forms.RadioSelect)
    comment = _comment()


class HandleForm(forms.Form):
    result = _comment(_l("What was done"), rows=4)
    photos = MultipleFileField(label=_l("Photos or documents"), widget=MultipleFileInput(
        attrs={"accept": "image/*,application/pdf"}))


class RateForm(forms.Form):
    rating = forms.TypedChoiceField(label=_l("Rating"), coerce=int, widget=forms.RadioSelect, choices=[
        (5, _l("5 · very satisfied")), (4, _l("4 · satisfied")), (3, _l("3 · acceptable")),
        (2, _l("2 · dissatisfied")), (1, _l("1 · very dissatisfied"))])
    comment = _comment(_l("What the reporter said"))


class SuperviseForm(forms.Form):
    order = _comment(_l("Supervision order"))
    due_at = forms.DateTimeField(label=_l("Due"), input_formats=["%Y-%m-%dT%H:%M"],
                                 widget=forms.DateTimeInput(attrs={"type": "datetime-local"},
                                                            format="%Y-%m-%dT%H:%M"))
    card = forms.ChoiceField(label=_l("Card"), required=False, choices=Supervision.Card.choices)


class DuplicateForm(forms.Form):
    original = forms.CharField(label=_l("Tracking number of the original case"), max_length=32)

