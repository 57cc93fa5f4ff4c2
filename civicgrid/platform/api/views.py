"""REST API v1. Thin views: validate, load with a selector, call one action, serialize."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from civicgrid.tenants.actions import OnboardingRefused, request_onboarding
from civicgrid.tenants.models import OnboardingJob, Tenant
from civicgrid.tenants.selectors import onboarding_job_state, tenants_for_province

from .permissions import IsProvincialAdmin, IsTenantStaff


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


class TenantOutput(serializers.ModelSerializer):
    parent = serializers.CharField(source="parent.division_code", default=None)
    domain = serializers.CharField(source="primary_domain")

    class Meta:
        model = Tenant
        fields = ["schema_name", "name", "division_code", "level", "parent", "status", "domain", "created_at"]


class OnboardingInput(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    division_code = serializers.CharField(max_length=6)
    level = serializers.ChoiceField(choices=[Tenant.Level.CITY, Tenant.Level.COUNTY])
    parent_code = serializers.CharField(max_length=6, required=False, allow_blank=True)
    domain = serializers.CharField(max_length=253)
    admin_username = serializers.CharField(max_length=150, required=False, allow_blank=True)
    admin_password = serializers.CharField(min_length=8, write_only=True)


class TenantListView(APIView):
    """Every city and county; POST queues the onboarding of a new one."""

    permission_classes = [IsProvincialAdmin]

    @extend_schema(responses=TenantOutput(many=True))
    def get(self, request):
        return Response(TenantOutput(tenants_for_province(), many=True).data)

    @extend_schema(request=OnboardingInput, responses={202: dict})
    def post(self, request):
        data = OnboardingInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            job = request_onboarding(params=data.validated_data, acting_user=request.user)
        except OnboardingRefused as refused:
            return Response(refused.errors, status=status.HTTP_400_BAD_REQUEST)
        return Response(onboarding_job_state(job, request), status=status.HTTP_202_ACCEPTED)


class OnboardingJobView(APIView):
    permission_classes = [IsProvincialAdmin]

    @extend_schema(responses={200: dict})
    def get(self, request, job_id):
        job = get_object_or_404(OnboardingJob.objects.select_related("tenant"), pk=job_id)
        return Response(onboarding_job_state(job, request))
