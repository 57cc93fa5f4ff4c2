"""REST API v1. Thin views: validate, load with a selector, call one action, serialize.

The province's endpoints (tenants, onboarding jobs) are in ``civicgrid.province.api``:
they queue onboarding, which lives above the platform apps."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from .permissions import IsTenantStaff
from .tokens.scopes import ANY_SCOPE


class HealthView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(responses={200: dict})
    def get(self, request):
        return Response({"status": "ok", "tenant": request.tenant.schema_name})


class MeOutput(serializers.Serializer):
    username = serializers.CharField()
    full_name = serializers.CharField()
    tenant = serializers.CharField()
    role = serializers.CharField()
    scope_kind = serializers.CharField()
    scope = serializers.CharField(allow_null=True)


class MeView(APIView):
    """Who the caller is in this tenant."""

    permission_classes = [IsTenantStaff]
    token_scope = ANY_SCOPE  # any valid token may ask whom it acts as

    @extend_schema(responses=MeOutput)
    def get(self, request):
        staff = request._request.staff
        return Response(MeOutput({
            "username": request.user.username, "full_name": request.user.full_name,
            "tenant": request.tenant.schema_name, "role": staff.role,
            "scope_kind": staff.scope_kind,
            "scope": (staff.scope_org_unit or staff.scope_department).code
            if (staff.scope_org_unit_id or staff.scope_department_id) else None,
        }).data)
