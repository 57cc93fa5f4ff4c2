"""Org API, mounted at the site root of tenant hosts (full paths under api/v1/org/)."""

from django.urls import path

from . import api

urlpatterns = [
    path("api/v1/org/units/", api.UnitListView.as_view(), name="api-org-units"),
    path("api/v1/org/units/<str:code>/", api.UnitDetailView.as_view(), name="api-org-unit"),
    path("api/v1/org/departments/", api.DepartmentListView.as_view(), name="api-org-departments"),
    path("api/v1/org/locate/", api.LocateView.as_view(), name="api-org-locate"),
]
