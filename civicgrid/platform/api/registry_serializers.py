"""Registry API serializers: query filters, inputs and outputs.

Inputs only check shapes and resolve references through the actor's scope
(a household you cannot see is "not found", never a hint that it exists); the
actions run the model's own validation. Outputs never carry a protected value in
clear: ID numbers and phones go out through ``mask_*`` only.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _l
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from civicgrid.platform.org.models import OrgUnit
from civicgrid.platform.registry import selectors
from civicgrid.platform.registry.identity import normalise_phone, parse_id_number
from civicgrid.platform.registry.models import (
    Building,
    CareKind,
    CareRecord,
    House,
    Household,
    Organisation,
    Person,
    Place,
    Thing,
)

# --- references -------------------------------------------------------------


class GridCode(serializers.CharField):
    """A grid by its code. Whether the actor may write in it is the action's question (404)."""

    default_error_messages = {"unknown": _l("No grid has the code %(code)s.")}

    def to_internal_value(self, data):
        code = super().to_internal_value(data)
        grid = OrgUnit.objects.filter(code=code, level=OrgUnit.Level.GRID).first()
        if grid is None:
            self.fail("unknown", code=code)
        return grid


class Scoped(serializers.PrimaryKeyRelatedField):
    """A registry record by id, looked up only among those the actor may see."""

    def __init__(self, model, **kwargs):
        self.model = model
        super().__init__(queryset=model.objects.none(), **kwargs)

    def get_queryset(self):
        return selectors.registry_for(self.context["staff"], self.model)


class GrantedKind(serializers.SlugRelatedField):
    """A care kind by code, among the kinds granted to the actor's role."""

    def __init__(self, **kwargs):
        super().__init__(slug_field="code", queryset=CareKind.objects.none(), **kwargs)

    def get_queryset(self):
        return selectors.care_kinds_for(self.context["staff"])


def _django_messages(exc: DjangoValidationError) -> list[str]:
    return list(exc.messages)


# --- filters (query parameters) -------------------------------------------


class RegistryFilters(serializers.Serializer):
    grid = serializers.CharField(required=False, help_text=_l("Org unit code; its whole subtree is included."))
    name = serializers.CharField(required=False, help_text=_l("Name (or address, number, code) contains."))
    updated_since = serializers.DateTimeField(required=False)


class PersonFilters(RegistryFilters):
    residence = serializers.ChoiceField(choices=Person.Residence.choices, required=False)
    gender = serializers.ChoiceField(choices=Person.Gender.choices, required=False)
    household = serializers.IntegerField(required=False)
    id_number = serializers.CharField(required=False, help_text=_l("Exact ID number (searched by blind index)."))
    phone = serializers.CharField(required=False, help_text=_l("Exact phone number (searched by blind index)."))
    # The console's search pages and export links carry these instead of the numbers, so no
    # URL (access logs, history, Referer) holds an ID number or phone.
    id_number_index = serializers.RegexField(r"^[0-9a-f]{64}$", required=False,
                                             help_text=_l("Blind index of an exact ID number."))
    phone_index = serializers.RegexField(r"^[0-9a-f]{64}$", required=False,
                                         help_text=_l("Blind index of an exact phone number."))

    def validate_id_number(self, value):
        try:
            return parse_id_number(value).value
        except DjangoValidationError as exc:
            raise serializers.ValidationError(_django_messages(exc)) from exc

    def validate_phone(self, value):
        try:
            return normalise_phone(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(_django_messages(exc)) from exc


class PersonQueryFilters(PersonFilters):
    """The persons list's and export's query string: the blind indexes, never the numbers
    themselves (refused with 400 by ``registry.refuse_numbers_in_query``)."""

    id_number = None
    phone = None


class HouseFilters(RegistryFilters):
    building = serializers.IntegerField(required=False)
    is_rental = serializers.BooleanField(required=False, allow_null=True, default=None)


class PlaceFilters(RegistryFilters):
    kind = serializers.ChoiceField(choices=Place.Kind.choices, required=False)
    is_key_place = serializers.BooleanField(required=False, allow_null=True, default=None)


class OrganisationFilters(RegistryFilters):
    kind = serializers.ChoiceField(choices=Organisation.Kind.choices, required=False)
    credit_code = serializers.CharField(required=False)


class ThingFilters(RegistryFilters):
    kind = serializers.CharField(required=False)
    state = serializers.ChoiceField(choices=Thing.State.choices, required=False)
    code = serializers.CharField(required=False)


class BuildingFilters(RegistryFilters):
    code = serializers.CharField(required=False)


class CareRecordFilters(serializers.Serializer):
    grid = serializers.CharField(required=False, help_text=_l("Org unit code; its whole subtree is included."))
    kind = serializers.CharField(required=False, help_text=_l("Care kind code."))
    person = serializers.IntegerField(required=False)
    updated_since = serializers.DateTimeField(required=False)


# --- outputs ----------------------------------------------------------------


class GridBoundOutput(serializers.ModelSerializer):
    grid = serializers.CharField(source="grid.code", read_only=True)
    grid_name = serializers.CharField(source="grid.name", read_only=True)

    COMMON = ["id", "grid", "grid_name", "source", "created_at", "updated_at"]


class PersonOutput(GridBoundOutput):
    id_number = serializers.CharField(source="masked_id_number", read_only=True)
    phone = serializers.CharField(source="masked_phone", read_only=True)
    household_number = serializers.CharField(source="household.number", default=None, read_only=True)
    care_kinds = serializers.SerializerMethodField()

    class Meta:
        model = Person
        fields = ["id", "name", "id_number", "phone", "gender", "birth_date", "residence", "registered_address",
                  "actual_address", "household", "household_number", "care_kinds", *GridBoundOutput.COMMON[1:]]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_care_kinds(self, person) -> list[str]:
        # Prefetched by the view through selectors.with_visible_care: granted kinds only.
        return [record.kind.code for record in getattr(person, "visible_care", [])]


class HouseholdOutput(GridBoundOutput):
    class Meta:
        model = Household
        fields = ["number", "address", *GridBoundOutput.COMMON]


class BuildingOutput(GridBoundOutput):
    class Meta:
        model = Building
        fields = ["code", "address", "floors", "latitude", "longitude", *GridBoundOutput.COMMON]


class HouseOutput(GridBoundOutput):
    building_address = serializers.CharField(source="building.address", read_only=True)

    class Meta:
        model = House
        fields = ["building", "building_address", "room", "is_rental", "owner", "occupants",
                  *GridBoundOutput.COMMON]


class PlaceOutput(GridBoundOutput):
    class Meta:
        model = Place
        fields = ["name", "kind", "is_key_place", "address", "latitude", "longitude", *GridBoundOutput.COMMON]


class OrganisationOutput(GridBoundOutput):
    class Meta:
        model = Organisation
        fields = ["name", "kind", "credit_code", "legal_representative", "address", *GridBoundOutput.COMMON]


class ThingOutput(GridBoundOutput):
    class Meta:
        model = Thing
        fields = ["code", "kind", "state", "latitude", "longitude", *GridBoundOutput.COMMON]


class CareKindOutput(serializers.ModelSerializer):
    class Meta:
        model = CareKind
        fields = ["code", "name", "fields", "is_sensitive"]


class CareRecordOutput(serializers.ModelSerializer):
    kind = serializers.CharField(source="kind.code", read_only=True)
    kind_name = serializers.CharField(source="kind.name", read_only=True)
    person_name = serializers.CharField(source="person.name", read_only=True)
    grid = serializers.CharField(source="person.grid.code", read_only=True)
    values = serializers.JSONField(read_only=True)

    class Meta:
        model = CareRecord
        fields = ["id", "kind", "kind_name", "person", "person_name", "grid", "values", "created_at", "updated_at"]


# --- inputs -----------------------------------------------------------------

# Blank text passes here: the action reports it with every other problem of the record at once.
_TEXT = {"required": False, "allow_blank": True}
_COORDINATE = {"max_digits": 9, "decimal_places": 6}


class PersonInput(serializers.Serializer):
    name = serializers.CharField(max_length=60, allow_blank=True)
    id_number = serializers.CharField(max_length=30, allow_blank=True)
    phone = serializers.CharField(max_length=30, **_TEXT)
    grid = GridCode()
    residence = serializers.ChoiceField(choices=Person.Residence.choices, required=False)
    registered_address = serializers.CharField(max_length=200, **_TEXT)
    actual_address = serializers.CharField(max_length=200, **_TEXT)
    household = Scoped(Household, required=False, allow_null=True)


class HouseholdInput(serializers.Serializer):
    number = serializers.CharField(max_length=40, allow_blank=True)
    address = serializers.CharField(max_length=200, allow_blank=True)
    grid = GridCode()


class BuildingInput(serializers.Serializer):
    code = serializers.CharField(max_length=40, allow_blank=True)
    address = serializers.CharField(max_length=200, allow_blank=True)
    floors = serializers.IntegerField(min_value=0, required=False, allow_null=True)
    latitude = serializers.DecimalField(**_COORDINATE, required=False, allow_null=True)
    longitude = serializers.DecimalField(**_COORDINATE, required=False, allow_null=True)
    grid = GridCode()


class HouseInput(serializers.Serializer):
    building = Scoped(Building)
    room = serializers.CharField(max_length=40, allow_blank=True)
    grid = GridCode(required=False, help_text=_l("Defaults to the building's grid."))
    is_rental = serializers.BooleanField(required=False)
    owner = Scoped(Person, required=False, allow_null=True)
    occupants = Scoped(Person, many=True, required=False)


class PlaceInput(serializers.Serializer):
    name = serializers.CharField(max_length=120, allow_blank=True)
    kind = serializers.ChoiceField(choices=Place.Kind.choices)
    is_key_place = serializers.BooleanField(required=False)
    address = serializers.CharField(max_length=200, allow_blank=True)
    latitude = serializers.DecimalField(**_COORDINATE, required=False, allow_null=True)
    longitude = serializers.DecimalField(**_COORDINATE, required=False, allow_null=True)
    grid = GridCode()


class OrganisationInput(serializers.Serializer):
    name = serializers.CharField(max_length=150, allow_blank=True)
    kind = serializers.ChoiceField(choices=Organisation.Kind.choices)
    credit_code = serializers.CharField(max_length=30, allow_blank=True)
    legal_representative = serializers.CharField(max_length=60, **_TEXT)
    address = serializers.CharField(max_length=200, **_TEXT)
    grid = GridCode()


class ThingInput(serializers.Serializer):
    code = serializers.CharField(max_length=40, allow_blank=True)
    kind = serializers.CharField(max_length=40, allow_blank=True)
    state = serializers.ChoiceField(choices=Thing.State.choices, required=False)
    latitude = serializers.DecimalField(**_COORDINATE)
    longitude = serializers.DecimalField(**_COORDINATE)
    grid = GridCode()


class CareRecordInput(serializers.Serializer):
    person = Scoped(Person)
    kind = GrantedKind()
    values = serializers.DictField(help_text=_l("Values of the fields the kind declares."))


class CareRecordUpdateInput(serializers.Serializer):
    values = serializers.DictField(help_text=_l("Values to change; the others stay."))


class UnmaskInput(serializers.Serializer):
    field = serializers.ChoiceField(choices=[("id_number", _l("ID number")), ("phone", _l("Phone"))])
    # Not required here: the action says why a purpose is missing, after it has
    # checked that the caller may see the person and may unmask at all.
    purpose = serializers.CharField(required=False, allow_blank=True, default="")


class UnmaskOutput(serializers.Serializer):
    field = serializers.CharField()
    value = serializers.CharField()
