"""The province's part of REST API v1: the tenants and their onboarding jobs.

It lives here, not in ``civicgrid.platform.api``, because it queues onboarding
(``province.onboarding``) and platform apps do not import the province. The
URLs and their names are the ones the API has always had; ``urls_public`` adds
``urlpatterns`` beside the platform API's."""

from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from civicgrid.platform.api.permissions import IsProvincialAdmin
from civicgrid.tenants.models import OnboardingJob, Tenant
from civicgrid.tenants.selectors import onboarding_job_state, tenants_for_province

from .onboarding import OnboardingRefused, request_onboarding


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


urlpatterns = [
    path("api/v1/tenants/", TenantListView.as_view(), name="api-tenants"),
    path("api/v1/onboarding-jobs/<uuid:job_id>/", OnboardingJobView.as_view(), name="api-onboarding-job"),
]
