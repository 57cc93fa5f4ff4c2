"""Org API v1: units (scoped to the caller), departments, point → grid."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from civicgrid.platform.api.permissions import IsTenantStaff

from . import geo, selectors
from .models import Department, OrgUnit


class UnitOutput(serializers.ModelSerializer):
    parent = serializers.CharField(source="parent.code", default=None)

    class Meta:
        model = OrgUnit
        fields = ["code", "name", "level", "parent", "path"]


class UnitDetailOutput(UnitOutput):
    class Meta(UnitOutput.Meta):
        fields = [*UnitOutput.Meta.fields, "boundary"]


class DepartmentOutput(serializers.ModelSerializer):
    township = serializers.CharField(source="township.code", default=None)

    class Meta:
        model = Department
        fields = ["code", "name", "level", "township"]


class UnitListView(generics.ListAPIView):
    """The org units the caller may see; ``?level=grid``, ``?parent=<code>``."""

    permission_classes = [IsTenantStaff]
    token_scope = "org"  # API tokens: org:read
    serializer_class = UnitOutput

    @extend_schema(parameters=[
        OpenApiParameter("level", str, enum=OrgUnit.Level.values),
        OpenApiParameter("parent", str, description="code of the parent unit"),
    ])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        units = selectors.units_for(self.request.staff)
        level = self.request.query_params.get("level")
        if level:
            if level not in OrgUnit.Level.values:
                raise ValidationError({"level": [f"one of {', '.join(OrgUnit.Level.values)}"]})
            units = units.filter(level=level)
        parent = self.request.query_params.get("parent")
        if parent:
            units = units.filter(parent__code=parent)
        return units


class UnitDetailView(APIView):
    """One unit with its boundary; 404 for units missing or out of the caller's scope."""

    permission_classes = [IsTenantStaff]
    token_scope = "org"  # API tokens: org:read

    @extend_schema(responses=UnitDetailOutput)
    def get(self, request, code):
        try:
            unit = selectors.access_unit(request.staff, code)
        except OrgUnit.DoesNotExist as exc:
            raise Http404 from exc
        return Response(UnitDetailOutput(unit).data)


class DepartmentListView(generics.ListAPIView):
    permission_classes = [IsTenantStaff]
    token_scope = "org"  # API tokens: org:read
    serializer_class = DepartmentOutput

    def get_queryset(self):
        return selectors.departments_for(self.request.staff)


class LocateInput(serializers.Serializer):
    lng = serializers.FloatField(min_value=-180, max_value=180)
    lat = serializers.FloatField(min_value=-90, max_value=90)


class LocateOutput(serializers.Serializer):
    grid = serializers.CharField()
    name = serializers.CharField()
    candidates = serializers.ListField(child=serializers.CharField(),
                                       help_text="every visible grid covering the point, smallest first")


class LocateView(APIView):
    """The grid holding a point (the smallest where grids overlap), among those the caller may see."""

    permission_classes = [IsTenantStaff]
    token_scope = "org"  # API tokens: org:read

    @extend_schema(parameters=[LocateInput], responses={200: LocateOutput, 404: None})
    def get(self, request):
        point = LocateInput(data=request.query_params)
        point.is_valid(raise_exception=True)
        entries = geo.locator().grids_at(point.validated_data["lng"], point.validated_data["lat"])
        visible = set(selectors.grids_for(request.staff).filter(pk__in=[e.pk for e in entries])
                      .values_list("pk", flat=True))
        entries = [e for e in entries if e.pk in visible]
        if not entries:
            raise Http404
        return Response(LocateOutput({"grid": entries[0].code, "name": entries[0].name,
                                      "candidates": [e.code for e in entries]}).data)
