"""The console's unit form. It shapes input; ``actions.save_unit`` decides (and names problems by field)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _l

from . import selectors
from .models import UnitKind


class UnitForm(forms.Form):
    """Every field of a fire-risk unit. Django's CharField refuses NUL characters (its
    ProhibitNullCharactersValidator), as every platform form does; the action refuses them again."""

    code = forms.CharField(label=_l("Code"), max_length=40,
                           help_text=_l("A code is letters, digits, '.', '_' or '-' (at most 40)."))
    name = forms.CharField(label=_l("Name"), max_length=100)
    kind = forms.ChoiceField(label=_l("Kind"), choices=UnitKind.choices)
    address = forms.CharField(label=_l("Address"), max_length=200)
    grid = forms.ChoiceField(label=_l("Grid"))
    building = forms.CharField(label=_l("Building code"), max_length=40, required=False,
                               help_text=_l("Optional: the registry's code of the building the unit is in."))
    latitude = forms.DecimalField(label=_l("Latitude"), required=False, max_digits=9, decimal_places=6,
                                  min_value=-90, max_value=90)
    longitude = forms.DecimalField(label=_l("Longitude"), required=False, max_digits=10, decimal_places=6,
                                   min_value=-180, max_value=180)
    contact_name = forms.CharField(label=_l("Contact"), max_length=50, required=False)
    contact_phone = forms.CharField(label=_l("Contact phone"), max_length=30, required=False)
    is_active = forms.BooleanField(label=_l("In use"), required=False, initial=True,
                                   help_text=_l("Untick to retire the unit: it leaves the lists, its history is kept."))

    def __init__(self, *args, staff, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["grid"].choices = [("", "—")] + [
            (g.code, f"{g.name} ({g.code})") for g in selectors.managed_grids(staff)]

    def values(self) -> dict:
        """The cleaned data as ``actions.save_unit`` takes it (text; coordinates as written)."""
        data = self.cleaned_data
        return {**{name: data[name] for name in ("code", "name", "kind", "address", "grid", "building",
                                                  "contact_name", "contact_phone", "is_active")},
                "latitude": "" if data["latitude"] is None else str(data["latitude"]),
                "longitude": "" if data["longitude"] is None else str(data["longitude"])}

    def add_action_errors(self, error: ValidationError) -> None:
        problems = error.message_dict if hasattr(error, "error_dict") else {"__all__": error.messages}
        for name, messages in problems.items():
            self.add_error(name if name in self.fields else None, messages)

    @staticmethod
    def initial_for(unit) -> dict:
        return {"code": unit.code, "name": unit.name, "kind": unit.kind, "address": unit.address,
                "grid": unit.grid.code, "building": unit.building.code if unit.building_id else "",
                "latitude": unit.latitude, "longitude": unit.longitude, "contact_name": unit.contact_name,
                "contact_phone": unit.contact_phone, "is_active": unit.is_active}
