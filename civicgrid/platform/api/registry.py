"""Registry API v1: persons, households, buildings, houses, places, organisations,
things, care kinds and care records.

Thin views: an input serializer validates, a selector loads (already scoped to the
caller, so views never scope), one action writes, an output serializer renders.
Every kind of grid-bound record is described once by a ``RegistryKind`` and gets
the same list / create / detail / update / export views from it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connection, models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django_tenants.utils import tenant_context
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error

from civicgrid.platform.registry import actions, exports, selectors
from civicgrid.platform.registry.models import (
    Building,
    CareRecord,
    House,
    Household,
    Organisation,
    Person,
    Place,
    Thing,
)

from . import registry_serializers as s
from .permissions import IsTenantStaff


class RegistryPagination(LimitOffsetPagination):
    default_limit = 50
    max_limit = 500


@dataclass(frozen=True)
class RegistryKind:
    model: type[models.Model]
    plural: str  # the URL segment
    output: type[serializers.Serializer]
    filters: type[serializers.Serializer]
    create_input: type[serializers.Serializer]
    create: Callable
    update: Callable  # (staff, row, changes) -> row


def _update(action, name):
    return lambda staff, row, changes: action(staff=staff, **{name: row}, changes=changes)


KINDS = [
    RegistryKind(Person, "persons", s.PersonOutput, s.PersonQueryFilters, s.PersonInput, actions.create_person,
                 _update(actions.update_person, "person")),
    RegistryKind(Household, "households", s.HouseholdOutput, s.RegistryFilters, s.HouseholdInput,
                 actions.create_household, _update(actions.update_household, "household")),
    RegistryKind(Building, "buildings", s.BuildingOutput, s.BuildingFilters, s.BuildingInput,
                 actions.create_building, _update(actions.update_building, "building")),
    RegistryKind(House, "houses", s.HouseOutput, s.HouseFilters, s.HouseInput, actions.create_house,
                 _update(actions.update_house, "house")),
    RegistryKind(Place, "places", s.PlaceOutput, s.PlaceFilters, s.PlaceInput, actions.create_place,
                 _update(actions.update_place, "place")),
    RegistryKind(Organisation, "organisations", s.OrganisationOutput, s.OrganisationFilters, s.OrganisationInput,
                 actions.create_organisation, _update(actions.update_organisation, "organisation")),
    RegistryKind(Thing, "things", s.ThingOutput, s.ThingFilters, s.ThingInput, actions.create_thing,
                 _update(actions.update_thing, "thing")),
]


class RegistryView(GenericAPIView):
    """Base of every registry endpoint: tenant staff only; the selectors decide what they see."""

    permission_classes = [IsTenantStaff]
    token_scope = "registry"  # API tokens: registry:read for GET, registry:write otherwise
    pagination_class = RegistryPagination
    # JSON only: the browsable renderer would fill its edit forms from the model,
    # and Person.id_number() / phone() would land in them in clear.
    renderer_classes = [JSONRenderer]

    @property
    def staff(self):
        return self.request.staff

    def handle_exception(self, exc):
        # Actions speak Django's ValidationError; the API answers 400 with per-field messages.
        if isinstance(exc, DjangoValidationError):
            exc = ValidationError(as_serializer_error(exc))
        return super().handle_exception(exc)

    def filters(self, serializer_class) -> dict:
        refuse_numbers_in_query(self.request)
        # A plain dict, not the QueryDict: DRF reads a missing boolean in form data as False.
        data = serializer_class(data=dict(self.request.query_params.items()))
        data.is_valid(raise_exception=True)
        return data.validated_data

    def valid_input(self, serializer_class, *, partial=False) -> dict:
        data = serializer_class(data=self.request.data, partial=partial, context={"staff": self.staff})
        data.is_valid(raise_exception=True)
        return data.validated_data

    def shown(self, rows, channel="api") -> None:
        """The sensitive-read audit row for the care records this response shows."""
        records = [r for row in rows for r in (getattr(row, "visible_care", None) or
                                               ([row] if isinstance(row, CareRecord) else []))]
        actions.record_sensitive_read(staff=self.staff, records=records, channel=channel)


NUMBERS = ("id_number", "phone")


def refuse_numbers_in_query(request) -> None:
    """An ID number or phone in a URL ends up in access logs, proxies' logs and browser
    histories: refused wherever the registry API reads its query string, with where to send
    it instead. (The console's pages redirect such a link to blind indexes instead.)"""
    named = [name for name in NUMBERS if name in request.query_params]
    if named:
        message = _("ID numbers and phone numbers are not accepted in the query string: send the filters "
                    "in the body of POST /api/v1/registry/persons/search/.")
        raise ValidationError({name: [message] for name in named})


class _KindView(RegistryView):
    kind: RegistryKind

    def rows(self, **filters):
        rows = selectors.search_registry(self.staff, self.kind.model, **filters)
        if self.kind.model is Person:
            rows = selectors.with_visible_care(self.staff, rows)
        elif self.kind.model is House:
            rows = rows.prefetch_related("occupants")
        return rows

    def render(self, row, code=status.HTTP_200_OK):
        if self.kind.model is Person:
            row = self.rows().get(pk=row.pk)  # with its visible care records
            self.shown([row])
        return Response(self.kind.output(row).data, status=code)


class RegistryListView(_KindView):
    def get(self, request):
        page = self.paginate_queryset(self.rows(**self.filters(self.kind.filters)))
        self.shown(page)
        return self.get_paginated_response(self.kind.output(page, many=True).data)

    def post(self, request):
        row = self.kind.create(staff=self.staff, **self.valid_input(self.kind.create_input))
        return self.render(row, status.HTTP_201_CREATED)


class RegistryDetailView(_KindView):
    def get(self, request, pk):
        return self.render(selectors.access(self.staff, self.kind.model, pk))

    def patch(self, request, pk):
        row = selectors.access(self.staff, self.kind.model, pk)
        changes = self.valid_input(self.kind.create_input, partial=True)
        return self.render(self.kind.update(self.staff, row, changes))


class FileNegotiation(BaseContentNegotiation):
    """Export views answer with a file whatever Accept says (``Accept: text/csv`` included);
    their errors are still JSON."""

    def select_parser(self, request, parsers):
        return parsers[0]

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class RegistryExportView(_KindView):
    content_negotiation_class = FileNegotiation

    def get(self, request, fmt):
        rows = self.rows(**self.filters(self.kind.filters))
        check_export_size(rows, fmt)
        if self.kind.model is Person:
            # Audited before the first byte: a streamed file cannot take it back.
            actions.record_sensitive_read(staff=self.staff, records=list(selectors.sensitive_care_of(self.staff, rows)),
                                          channel=f"export.{fmt}")
        return export(rows, self.kind.model, self.kind.plural, fmt)


def check_export_size(rows, fmt) -> None:
    if fmt == "xlsx" and rows.count() > exports.XLSX_MAX_ROWS:
        raise ValidationError({"format": [_("More than %(n)d rows: narrow the filters or export CSV.")
                                          % {"n": exports.XLSX_MAX_ROWS}]})


def export(rows, model, stem, fmt):
    columns = exports.COLUMNS[model]
    if fmt == "csv":
        return exports.csv_response(_in_tenant(rows.iterator(chunk_size=2000), connection.tenant), columns, stem)
    return exports.xlsx_response(rows.iterator(chunk_size=2000), columns, stem, model._meta.verbose_name_plural)


def _in_tenant(rows, tenant):
    # A streamed body is read after the view has returned, possibly in another
    # thread (ASGI): the schema is set again explicitly rather than assumed.
    with tenant_context(tenant):
        yield from rows


EXPORT_RESPONSES = {(200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY, description=_l("CSV, masked like JSON")),
                    (200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"):
                        OpenApiResponse(OpenApiTypes.BINARY, description=_l("XLSX, masked like JSON"))}
FORMAT_PARAMETER = OpenApiParameter("fmt", str, OpenApiParameter.PATH, enum=["csv", "xlsx"],
                                    description=_l("File format: …/export.csv or …/export.xlsx"))


def views_for(kind: RegistryKind) -> tuple[type, type, type]:
    """The list, detail and export views of one kind, each documented with its own serializers."""
    name = kind.model.__name__
    tag = [f"registry: {kind.plural}"]
    # extend_schema_view copies the inherited methods before annotating them, so
    # the kinds do not overwrite one another's documentation.
    list_view = extend_schema_view(
        get=extend_schema(tags=tag, parameters=[kind.filters], responses=kind.output(many=True)),
        post=extend_schema(tags=tag, request=kind.create_input, responses={201: kind.output}),
    )(type(f"{name}ListView", (RegistryListView,), {"kind": kind, "__doc__": f"{name} records."}))
    detail = extend_schema_view(
        get=extend_schema(tags=tag, responses=kind.output),
        patch=extend_schema(tags=tag, request=kind.create_input, responses=kind.output),
    )(type(f"{name}DetailView", (RegistryDetailView,), {"kind": kind, "__doc__": f"One {name} record."}))
    export_view = extend_schema_view(
        get=extend_schema(tags=tag, operation_id=f"registry_{kind.plural}_export",
                          parameters=[kind.filters, FORMAT_PARAMETER], responses=EXPORT_RESPONSES),
    )(type(f"{name}ExportView", (RegistryExportView,), {
        "kind": kind, "__doc__": f"Every {name} record matching the list filters, as CSV (streamed) or XLSX."}))
    return list_view, detail, export_view


# --- persons: searching without numbers in the URL ------------------------------------


class PersonSearchOutput(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = s.PersonOutput(many=True)


class PersonSearchView(_KindView):
    """The persons list's filters sent in the body instead of the query string: an ID number or
    phone in a URL ends up in access logs, proxies' logs and browser histories on the way.
    Same answer as the list (paginated by ``limit`` and ``offset`` in the query string)."""

    kind = next(kind for kind in KINDS if kind.model is Person)
    token_scope = {"POST": "registry:read"}

    @extend_schema(tags=["registry: persons"], operation_id="registry_persons_search", request=s.PersonFilters,
                   parameters=[OpenApiParameter("limit", int), OpenApiParameter("offset", int)],
                   responses={200: PersonSearchOutput, 400: OpenApiResponse(OpenApiTypes.OBJECT)})
    def post(self, request):
        refuse_numbers_in_query(request)  # only limit and offset belong in this URL
        filters = s.PersonFilters(data=request.data)
        filters.is_valid(raise_exception=True)
        page = self.paginate_queryset(self.rows(**filters.validated_data))
        self.shown(page)
        return self.get_paginated_response(self.kind.output(page, many=True).data)


# --- persons: unmasking -------------------------------------------------------


class PersonUnmaskView(RegistryView):
    """The clear ID number or phone of one person, with a stated purpose. Audited.

    404 when the caller cannot see the person, 403 when the role may not unmask,
    400 when the purpose is missing."""

    token_scope = {"POST": "registry:unmask"}

    @extend_schema(tags=["registry: persons"], request=s.UnmaskInput, responses=s.UnmaskOutput)
    def post(self, request, pk):
        person = selectors.access(self.staff, Person, pk)
        data = self.valid_input(s.UnmaskInput)
        try:
            value = actions.unmask(staff=self.staff, person=person, field=data["field"], purpose=data["purpose"])
        except DjangoValidationError as exc:
            raise ValidationError({"purpose": exc.messages}) from exc
        return Response(s.UnmaskOutput({"field": data["field"], "value": value}).data)


# --- care kinds and care records -------------------------------------------------


class CareKindListView(RegistryView):
    """The care kinds granted to the caller's role."""

    @extend_schema(tags=["registry: care"], responses=s.CareKindOutput(many=True))
    def get(self, request):
        page = self.paginate_queryset(selectors.care_kinds_for(self.staff))
        return self.get_paginated_response(s.CareKindOutput(page, many=True).data)


class CareKindDetailView(RegistryView):
    @extend_schema(tags=["registry: care"], responses=s.CareKindOutput)
    def get(self, request, code):
        return Response(s.CareKindOutput(selectors.access_care_kind(self.staff, code)).data)


class CareRecordListView(RegistryView):
    """Care records of the kinds granted to the caller, about persons it may see."""

    @extend_schema(tags=["registry: care"], parameters=[s.CareRecordFilters],
                   responses=s.CareRecordOutput(many=True))
    def get(self, request):
        page = self.paginate_queryset(selectors.search_care_records(self.staff, **self.filters(s.CareRecordFilters)))
        self.shown(page)
        return self.get_paginated_response(s.CareRecordOutput(page, many=True).data)

    @extend_schema(tags=["registry: care"], request=s.CareRecordInput, responses={201: s.CareRecordOutput})
    def post(self, request):
        data = self.valid_input(s.CareRecordInput)
        existed = selectors.care_records_for(self.staff).filter(person=data["person"], kind=data["kind"]).exists()
        care = _care_values_checked(lambda: actions.set_care_record(staff=self.staff, **data))
        return Response(s.CareRecordOutput(care).data, status=status.HTTP_200_OK if existed else
                        status.HTTP_201_CREATED)


class CareRecordDetailView(RegistryView):
    @extend_schema(tags=["registry: care"], responses=s.CareRecordOutput)
    def get(self, request, pk):
        care = selectors.access_care_record(self.staff, pk)
        self.shown([care])
        return Response(s.CareRecordOutput(care).data)

    @extend_schema(tags=["registry: care"], request=s.CareRecordUpdateInput, responses=s.CareRecordOutput)
    def patch(self, request, pk):
        care = selectors.access_care_record(self.staff, pk)
        values = self.valid_input(s.CareRecordUpdateInput)["values"]
        care = _care_values_checked(lambda: actions.update_care_record(staff=self.staff, care_record=care,
                                                                       values=values))
        return Response(s.CareRecordOutput(care).data)


class CareRecordExportView(RegistryView):
    """Every care record matching the list filters, as CSV (streamed) or XLSX."""

    content_negotiation_class = FileNegotiation

    @extend_schema(tags=["registry: care"], operation_id="registry_care_records_export",
                   parameters=[s.CareRecordFilters, FORMAT_PARAMETER], responses=EXPORT_RESPONSES)
    def get(self, request, fmt):
        rows = selectors.search_care_records(self.staff, **self.filters(s.CareRecordFilters))
        check_export_size(rows, fmt)
        actions.record_sensitive_read(staff=self.staff, records=list(rows.filter(kind__is_sensitive=True)),
                                      channel=f"export.{fmt}")
        return export(rows, CareRecord, "care-records", fmt)


def _care_values_checked(write):
    """Bad values are reported under ``values``, one list of messages per field of the kind."""
    try:
        return write()
    except DjangoValidationError as exc:
        raise ValidationError({"values": exc.message_dict if hasattr(exc, "error_dict") else exc.messages}) from exc
