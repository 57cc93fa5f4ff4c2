"""Console forms of the registry: searching lists and unmasking a protected value.

The search forms use the API's parameter names (grid, name, id_number …), so a
list page's query string doubles as the query string of its export link.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _l

from civicgrid.platform.org.selectors import units_for

from . import protection
from .actions import MIN_PURPOSE_LENGTH
from .identity import normalise_phone, parse_id_number
from .models import Person
from .selectors import care_kinds_for

INDENT = "\u3000"  # an ideographic space: indents evenly among Chinese names


def _unit_choices(staff) -> list[tuple[str, str]]:
    # Indented by depth, so the select reads as the tree it is.
    units = units_for(staff)
    return [("", _l("All my grids"))] + [
        (u.code, f"{INDENT * (u.path.count('/') - 1)}{u.name} ({u.code})") for u in units
    ]


class RegistrySearchForm(forms.Form):
    name = forms.CharField(label=_l("Name contains"), required=False, max_length=100)
    grid = forms.ChoiceField(label=_l("Org unit"), required=False)

    def __init__(self, *args, staff, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["grid"].choices = _unit_choices(staff)

    def filters(self) -> dict:
        """The cleaned values, without the empty ones, as selector keyword arguments."""
        return {key: value for key, value in self.cleaned_data.items() if value not in (None, "")}


class PersonSearchForm(RegistrySearchForm):
    id_number = forms.CharField(label=_l("ID number (exact)"), required=False, max_length=30)
    phone = forms.CharField(label=_l("Phone (exact)"), required=False, max_length=30)
    residence = forms.ChoiceField(label=_l("Residence"), required=False,
                                  choices=[("", "—"), *Person.Residence.choices])
    gender = forms.ChoiceField(label=_l("Gender"), required=False, choices=[("", "—"), *Person.Gender.choices])

    def clean_id_number(self):
        raw = self.cleaned_data["id_number"]
        return parse_id_number(raw).value if raw.strip() else ""

    def clean_phone(self):
        raw = self.cleaned_data["phone"]
        return normalise_phone(raw) if raw.strip() else ""

    def query_without_numbers(self) -> dict:
        """The search as URL parameters, an ID number or phone replaced by its blind index:
        the form is posted, and the results page it redirects to carries no number."""
        query = {}
        for key, value in self.filters().items():
            if key in ("id_number", "phone"):
                query[f"{key}_index"] = protection.blind_index(value, "id" if key == "id_number" else "phone")
            else:
                query[key] = value
        return query


class PersonIndexFilters(forms.Form):
    """What the results page reads back: the blind indexes, never the numbers."""

    id_number_index = forms.RegexField(regex=r"^[0-9a-f]{64}$", required=False)
    phone_index = forms.RegexField(regex=r"^[0-9a-f]{64}$", required=False)


class CareRecordSearchForm(forms.Form):
    kind = forms.ChoiceField(label=_l("Care group"), required=False)
    grid = forms.ChoiceField(label=_l("Org unit"), required=False)

    def __init__(self, *args, staff, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["grid"].choices = _unit_choices(staff)
        self.fields["kind"].choices = [("", _l("All granted groups"))] + [
            (k.code, k.name) for k in care_kinds_for(staff)]

    def filters(self) -> dict:
        return {key: value for key, value in self.cleaned_data.items() if value not in (None, "")}


class UnmaskForm(forms.Form):
    field = forms.ChoiceField(label=_l("Show in clear"), choices=[("id_number", _l("ID number")),
                                                                ("phone", _l("Phone"))])
    # Checked by the unmask action (one rule for the API and the console); the
    # browser asks for it too.
    purpose = forms.CharField(label=_l("Purpose"), required=False, max_length=200,
                              help_text=_l("Why you need the clear value. It is recorded in the audit trail."),
                              widget=forms.TextInput(attrs={"required": True, "minlength": MIN_PURPOSE_LENGTH}))

    def add_action_error(self, error: ValidationError) -> None:
        self.add_error("purpose", error)


class AnonymiseForm(forms.Form):
    """The console's confirmation: a reason (checked by the action) and a tick."""

    reason = forms.CharField(label=_l("Reason"), max_length=200, required=False,
                             help_text=_l("For example the request's reference. It is recorded in the audit trail; "
                                          "do not repeat the person's data here."),
                             widget=forms.TextInput(attrs={"required": True}))
    confirm = forms.BooleanField(label=_l("I understand the name, ID number, phone, addresses and care records are "
                                          "erased for good."), required=True)


class PersonCreateForm(forms.Form):
    """What a grid worker fills in on a household visit; checks live in ``actions.create_person``."""

    name = forms.CharField(label=_l("Name"), max_length=60)
    id_number = forms.CharField(label=_l("ID number"), max_length=18)
    phone = forms.CharField(label=_l("Phone"), max_length=20, required=False)
    grid = forms.ChoiceField(label=_l("Grid"))
    residence = forms.ChoiceField(label=_l("Residence"), choices=Person.Residence.choices)
    registered_address = forms.CharField(label=_l("Registered address"), max_length=200, required=False)
    actual_address = forms.CharField(label=_l("Actual address"), max_length=200, required=False)

    def __init__(self, *args, grids, **kwargs):
        super().__init__(*args, **kwargs)
        self.grids = {g.code: g for g in grids}
        self.fields["grid"].choices = [(g.code, f"{g.name} ({g.code})") for g in grids]
