"""Assessment API routes, mounted at the site root of tenant hosts (full paths under api/v1/assessment/)."""

from django.urls import path

from . import assessment as views

PREFIX = "api/v1/assessment"

urlpatterns = [
    path(f"{PREFIX}/departments/", views.DepartmentScoresView.as_view(), name="api-assessment-departments"),
    path(f"{PREFIX}/townships/", views.TownshipScoresView.as_view(), name="api-assessment-townships"),
    path(f"{PREFIX}/grid-workers/", views.GridWorkerScoresView.as_view(), name="api-assessment-grid-workers"),
    path(f"{PREFIX}/weights/", views.WeightsView.as_view(), name="api-assessment-weights"),
]
