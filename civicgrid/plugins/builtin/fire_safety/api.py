"""API under /api/v1/p/fire_safety/ (reverse as "api-fire_safety:<name>"): fire-risk units
(list, detail with history) and inspections (list; create from a grid worker's phone with
its own key in ``Idempotency-Key`` or ``client_key``: sent again, it is the same inspection)."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import path
from django.utils.translation import gettext_lazy as _l
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error

from civicgrid.platform.api.permissions import IsTenantStaff
from civicgrid.plugins.builtin.checklists import services as checklists
from civicgrid.plugins.builtin.checklists.models import Outcome

from . import actions, selectors
from .models import ItemResult, RiskLevel, UnitKind

TAGS = ["fire_safety"]
BAD_INPUT = OpenApiResponse(OpenApiTypes.OBJECT, description=_l('Messages by field: {"field": ["message"]}.'))
NOT_FOUND = OpenApiResponse(OpenApiTypes.OBJECT, description=_l("Not visible to the caller, or not theirs to do."))


class CanRead(IsTenantStaff):
    roles = tuple(selectors.READER_ROLES)


class Pagination(LimitOffsetPagination):
    default_limit = 50
    max_limit = 500


class FireUnitOutput(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=UnitKind.choices)
    kind_label = serializers.CharField(source="get_kind_display")
    address = serializers.CharField()
    grid = serializers.CharField(source="grid.code")
    building = serializers.IntegerField(source="building_id", allow_null=True)
    latitude = serializers.DecimalField(max_digits=9, decimal_places=6, allow_null=True)
    longitude = serializers.DecimalField(max_digits=9, decimal_places=6, allow_null=True)
    contact_name = serializers.CharField()
    contact_phone = serializers.CharField()
    risk_level = serializers.ChoiceField(choices=RiskLevel.choices)
    risk_computed_on = serializers.DateField(allow_null=True)


class FireResultOutput(serializers.Serializer):
    item = serializers.IntegerField(source="item_id")
    item_text = serializers.CharField()
    category = serializers.CharField(source="category_code")
    result = serializers.ChoiceField(choices=["pass", "fail", "na"])
    note = serializers.CharField()
    case = serializers.SerializerMethodField(help_text=_l("The hazard case this failed item opened, if any."))

    def get_case(self, result) -> str | None:
        try:
            hazard = result.hazard
        except ItemResult.hazard.RelatedObjectDoesNotExist:
            hazard = None
        return hazard.case.number if hazard is not None and hazard.case is not None else None


class FireInspectionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    unit = serializers.CharField(source="unit.code")
    inspected_by = serializers.CharField(source="inspected_by.username")
    inspected_at = serializers.DateTimeField()
    latitude = serializers.DecimalField(max_digits=9, decimal_places=6, allow_null=True)
    longitude = serializers.DecimalField(max_digits=9, decimal_places=6, allow_null=True)
    outcome = serializers.ChoiceField(choices=Outcome.choices)
    note = serializers.CharField()


class FireInspectionDetailOutput(FireInspectionOutput):
    results = FireResultOutput(many=True)


class FireUnitDetailOutput(FireUnitOutput):
    open_hazards = serializers.IntegerField()
    history = FireInspectionDetailOutput(many=True)


class FireInspectionInput(serializers.Serializer):
    """Multipart: the unit, each item's answer as ``item-<id>`` (pass, fail or na), a note as
    ``item-<id>-note``, a photo as ``item-<id>-photo`` for each failed item, the position."""

    unit = serializers.IntegerField(help_text=_l("The unit inspected."))
    latitude = serializers.CharField(help_text=_l("The phone's position (GPS)."))
    longitude = serializers.CharField()
    note = serializers.CharField(required=False, allow_blank=True)
    client_key = serializers.CharField(required=False, max_length=64, help_text=_l(
        "The phone's own key for this inspection (or send it as the Idempotency-Key header)."))


class FireUnitFilters(serializers.Serializer):
    kind = serializers.ChoiceField(choices=UnitKind.choices, required=False)
    risk = serializers.ChoiceField(choices=RiskLevel.choices, required=False)
    grid = serializers.CharField(required=False, max_length=40, help_text=_l("A grid's code."))


class FireInspectionFilters(serializers.Serializer):
    unit = serializers.IntegerField(required=False)
    outcome = serializers.ChoiceField(choices=Outcome.choices, required=False)


class ModuleView(GenericAPIView):
    permission_classes = [CanRead]
    pagination_class = Pagination
    renderer_classes = [JSONRenderer]

    def handle_exception(self, exc):
        if isinstance(exc, DjangoValidationError):
            exc = ValidationError(as_serializer_error(exc))
        return super().handle_exception(exc)


def _filters(serializer_class, request) -> dict:
    filters = serializer_class(data=dict(request.query_params.items()))
    filters.is_valid(raise_exception=True)
    return filters.validated_data


class UnitListView(ModuleView):
    """The fire-risk units in the caller's area."""

    @extend_schema(tags=TAGS, operation_id="fire_safety_units_list", parameters=[FireUnitFilters],
                   responses=FireUnitOutput(many=True))
    def get(self, request):
        chosen = _filters(FireUnitFilters, request)
        units = selectors.units_for(request.staff).filter(is_active=True)
        if chosen.get("kind"):
            units = units.filter(kind=chosen["kind"])
        if chosen.get("risk"):
            units = units.filter(risk_level=chosen["risk"])
        if chosen.get("grid"):
            units = units.filter(grid__code=chosen["grid"])
        page = self.paginate_queryset(units.order_by("code"))
        return self.get_paginated_response(FireUnitOutput(page, many=True).data)


class UnitDetailView(ModuleView):
    """One unit with its inspection history (newest first) and its open hazards."""

    @extend_schema(tags=TAGS, operation_id="fire_safety_units_detail",
                   responses={200: FireUnitDetailOutput, 404: NOT_FOUND})
    def get(self, request, pk):
        unit = selectors.unit_for(request.staff, pk)
        data = FireUnitOutput(unit).data
        history = selectors.history(unit)
        data["open_hazards"] = len(selectors.open_hazards(unit))
        data["history"] = [dict(FireInspectionOutput(i).data, results=FireResultOutput(i.answers, many=True).data)
                           for i in history]
        return Response(data)


class InspectionListView(ModuleView):
    """GET: the inspections in the caller's area. POST: a grid worker's inspection of a unit
    in their grid (201; the same key again: 200 with the same inspection, nothing redone)."""

    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema(tags=TAGS, operation_id="fire_safety_inspections_list", parameters=[FireInspectionFilters],
                   responses=FireInspectionOutput(many=True))
    def get(self, request):
        chosen = _filters(FireInspectionFilters, request)
        rows = selectors.inspections_for(request.staff)
        if chosen.get("unit"):
            rows = rows.filter(unit_id=chosen["unit"])
        if chosen.get("outcome"):
            rows = rows.filter(outcome=chosen["outcome"])
        page = self.paginate_queryset(rows.order_by("-inspected_at", "-id"))
        return self.get_paginated_response(FireInspectionOutput(page, many=True).data)

    @extend_schema(tags=TAGS, operation_id="fire_safety_inspections_create",
                   request={"multipart/form-data": FireInspectionInput},
                   parameters=[OpenApiParameter("Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER,
                                                description=_l("The phone's key for this inspection."))],
                   responses={201: FireInspectionDetailOutput, 200: FireInspectionDetailOutput, 400: BAD_INPUT,
                              404: NOT_FOUND})
    def post(self, request):
        if request.staff.role not in selectors.INSPECTOR_ROLES:
            raise NotFound
        key = checklists.client_key(request, request.data)
        checklists.check_key(key)
        try:
            unit_id = int(str(request.data.get("unit") or ""))
        except ValueError as exc:
            raise ValidationError({"unit": [_l("Name the unit inspected.")]}) from exc
        inspection, created = actions.inspect_unit(staff=request.staff, unit_id=unit_id, data=request.data,
                                                   files=request.FILES, client_key=key)
        results = list(inspection.results.select_related("hazard", "hazard__case").order_by("id"))
        data = dict(FireInspectionOutput(inspection).data, results=FireResultOutput(results, many=True).data)
        return Response(data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


urlpatterns = [
    path("units/", UnitListView.as_view(), name="units"),
    path("units/<int:pk>/", UnitDetailView.as_view(), name="unit-detail"),
    path("inspections/", InspectionListView.as_view(), name="inspections"),
]
