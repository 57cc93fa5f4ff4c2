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

# The province's endpoints (api/v1/tenants/, api/v1/onboarding-jobs/) are in
# civicgrid.province.api; urls_public adds them.
public_urlpatterns = [
    path("api/v1/health/", views.HealthView.as_view(), name="api-health"),
    path("api/schema/", schema_view, name="api-schema"),
]
