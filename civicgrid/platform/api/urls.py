from django.urls import path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.permissions import AllowAny

from . import views

schema_view = SpectacularAPIView.as_view(permission_classes=[AllowAny])

tenant_urlpatterns = [
    path("api/v1/health/", views.HealthView.as_view(), name="api-health"),
    path("api/v1/me/", views.MeView.as_view(), name="api-me"),
    path("api/schema/", schema_view, name="api-schema"),
]

public_urlpatterns = [
    path("api/v1/health/", views.HealthView.as_view(), name="api-health"),
    path("api/v1/tenants/", views.TenantListView.as_view(), name="api-tenants"),
    path("api/v1/onboarding-jobs/<uuid:job_id>/", views.OnboardingJobView.as_view(), name="api-onboarding-job"),
    path("api/schema/", schema_view, name="api-schema"),
]
