"""API under /api/v1/p/school_surroundings/ (reverse as "api-school_surroundings:<name>"):
schools with what lies inside their zone, and patrol check-ins (a patroller's phone sends
each with its own key in ``Idempotency-Key``: sent again, it is the same check-in)."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import path
from django.utils.translation import gettext_lazy as _l
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error

from civicgrid.platform.api.permissions import IsTenantStaff

from . import actions, selectors
from .models import MAX_RADIUS_M, MIN_RADIUS_M

TAGS = ["school_surroundings"]
BAD_INPUT = OpenApiResponse(OpenApiTypes.OBJECT, description=_l('Messages by field: {"field": ["message"]}.'))
NOT_FOUND = OpenApiResponse(OpenApiTypes.OBJECT, description=_l("Not visible to the caller, or not theirs to do."))


class CanViewSchools(IsTenantStaff):
    roles = selectors.VIEW_ROLES


class CanPatrolOrView(IsTenantStaff):
    roles = (*selectors.VIEW_ROLES, *selectors.PATROL_ROLES)


class Pagination(LimitOffsetPagination):
    default_limit = 50
    max_limit = 500


class SchoolOutput(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.CharField()
    kind_label = serializers.CharField(source="get_kind_display")
    address = serializers.CharField()
    grid = serializers.CharField(source="grid.code")
    latitude = serializers.DecimalField(max_digits=9, decimal_places=6)
    longitude = serializers.DecimalField(max_digits=9, decimal_places=6)
    pupils = serializers.IntegerField()
    contact = serializers.CharField()
    opens_at = serializers.TimeField(allow_null=True, format="%H:%M")
    closes_at = serializers.TimeField(allow_null=True, format="%H:%M")
    radius_m = serializers.IntegerField(help_text=_l("The zone's radius in metres (%(low)d–%(high)d).")
                                        % {"low": MIN_RADIUS_M, "high": MAX_RADIUS_M})


class SchoolZonePlaceOutput(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    name = serializers.CharField()
    kind = serializers.CharField()
    kind_label = serializers.CharField()
    address = serializers.CharField()
    latitude = serializers.FloatField()
    longitude = serializers.FloatField()
    distance_m = serializers.IntegerField()
    is_key_place = serializers.BooleanField()


class SchoolZoneHazardOutput(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    number = serializers.CharField()
    title = serializers.CharField()
    status = serializers.CharField()
    urgency = serializers.CharField()
    category = serializers.CharField()
    latitude = serializers.FloatField()
    longitude = serializers.FloatField()
    distance_m = serializers.IntegerField()
    raised = serializers.BooleanField(help_text=_l("Raised one urgency level because it lies in this zone."))


class SchoolZoneOutput(serializers.Serializer):
    radius_m = serializers.IntegerField()
    places = SchoolZonePlaceOutput(many=True)
    hazards = SchoolZoneHazardOutput(many=True)


class SchoolDetailOutput(SchoolOutput):
    zone = SchoolZoneOutput()


class SchoolCheckInInput(serializers.Serializer):
    slot = serializers.IntegerField(help_text=_l("The rota slot checked in for."))
    latitude = serializers.FloatField(min_value=-90, max_value=90, help_text=_l("The phone's position (GPS)."))
    longitude = serializers.FloatField(min_value=-180, max_value=180)
    device_key = serializers.CharField(required=False, max_length=64, help_text=_l(
        "The phone's own key for this check-in (or send it as the Idempotency-Key header)."))
    checked_at = serializers.DateTimeField(required=False, help_text=_l(
        "When it was made, for a check-in kept on the phone while offline (at most 24 hours ago)."))
    note = serializers.CharField(required=False, allow_blank=True, max_length=300)


class SchoolCheckInOutput(serializers.Serializer):
    id = serializers.IntegerField()
    slot = serializers.IntegerField(source="slot_id")
    school = serializers.CharField(source="slot.school.code")
    day = serializers.DateField()
    patroller = serializers.CharField(source="patroller.user.username")
    checked_at = serializers.DateTimeField()
    received_at = serializers.DateTimeField()
    latitude = serializers.DecimalField(max_digits=9, decimal_places=6)
    longitude = serializers.DecimalField(max_digits=9, decimal_places=6)
    distance_m = serializers.IntegerField()
    note = serializers.CharField()


class SchoolRefusedOutput(serializers.Serializer):
    refused = serializers.ChoiceField(choices=["outside_zone", "outside_slot", "not_today"])
    detail = serializers.CharField()


class SchoolCheckInFilters(serializers.Serializer):
    day = serializers.DateField(required=False, help_text=_l("Only this day's check-ins."))
    school = serializers.CharField(required=False, max_length=40, help_text=_l("Only this school's (its code)."))


class ModuleView(GenericAPIView):
    permission_classes = [CanViewSchools]
    pagination_class = Pagination
    renderer_classes = [JSONRenderer]

    def handle_exception(self, exc):
        if isinstance(exc, DjangoValidationError):
            exc = ValidationError(as_serializer_error(exc))
        return super().handle_exception(exc)


class SchoolListView(ModuleView):
    """The schools in the caller's area."""

    @extend_schema(tags=TAGS, operation_id="school_surroundings_schools_list", responses=SchoolOutput(many=True))
    def get(self, request):
        page = self.paginate_queryset(selectors.schools_for(request.staff))
        return self.get_paginated_response(SchoolOutput(page, many=True).data)


class SchoolDetailView(ModuleView):
    """One school, with the registry's places and the open hazards inside its zone (nearest first)."""

    @extend_schema(tags=TAGS, operation_id="school_surroundings_schools_detail",
                   responses={200: SchoolDetailOutput, 404: NOT_FOUND})
    def get(self, request, pk):
        school = selectors.school_for(request.staff, pk)
        zone = selectors.zone_contents(school, staff=request.staff)
        data = SchoolOutput(school).data
        data["zone"] = SchoolZoneOutput(zone).data
        return Response(data)


class CheckInListView(ModuleView):
    """GET: check-ins the caller may see (their own; or their schools'). POST: a patroller
    checks in for a slot of today (201; the same key again: 200 with the same check-in);
    outside the zone or the slot: 400 with ``refused`` and the reason."""

    permission_classes = [CanPatrolOrView]

    @extend_schema(tags=TAGS, operation_id="school_surroundings_checkins_list", parameters=[SchoolCheckInFilters],
                   responses=SchoolCheckInOutput(many=True))
    def get(self, request):
        filters = SchoolCheckInFilters(data=dict(request.query_params.items()))
        filters.is_valid(raise_exception=True)
        rows = selectors.checkins_for(request.staff)
        if filters.validated_data.get("day"):
            rows = rows.filter(day=filters.validated_data["day"])
        if filters.validated_data.get("school"):
            rows = rows.filter(slot__school__code=filters.validated_data["school"])
        page = self.paginate_queryset(rows.order_by("-checked_at", "-pk"))
        return self.get_paginated_response(SchoolCheckInOutput(page, many=True).data)

    @extend_schema(tags=TAGS, operation_id="school_surroundings_checkins_create", request=SchoolCheckInInput,
                   parameters=[OpenApiParameter("Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER,
                                                description=_l("The phone's key for this check-in."))],
                   responses={201: SchoolCheckInOutput, 200: SchoolCheckInOutput, 400: OpenApiResponse(
                       SchoolRefusedOutput, description=_l("Outside the zone or the slot (or bad input, by field).")),
                       404: NOT_FOUND})
    def post(self, request):
        if request.staff.role not in selectors.PATROL_ROLES:
            from rest_framework.exceptions import NotFound

            raise NotFound
        data = SchoolCheckInInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        key = request.headers.get("Idempotency-Key", "") or values.get("device_key", "")
        try:
            item, created = actions.check_in(staff=request.staff, slot_id=values["slot"], latitude=values["latitude"],
                                             longitude=values["longitude"], device_key=key,
                                             checked_at=values.get("checked_at"), note=values.get("note", ""))
        except actions.CheckInRefused as refused:
            return Response({"refused": refused.code, "detail": refused.reason}, status=status.HTTP_400_BAD_REQUEST)
        return Response(SchoolCheckInOutput(item).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


urlpatterns = [
    path("schools/", SchoolListView.as_view(), name="schools"),
    path("schools/<int:pk>/", SchoolDetailView.as_view(), name="school-detail"),
    path("checkins/", CheckInListView.as_view(), name="checkins"),
]
