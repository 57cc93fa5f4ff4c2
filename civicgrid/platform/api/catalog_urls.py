"""Catalog API routes, mounted at the site root of tenant hosts (full paths under api/v1/)."""

from django.urls import path

from . import catalog as views

urlpatterns = [
    path("api/v1/categories/", views.CategoryListView.as_view(), name="api-catalog-categories"),
    path("api/v1/categories/<str:code>/", views.CategoryDetailView.as_view(), name="api-catalog-category"),
    path("api/v1/categories/<str:code>/routing-rules/", views.RoutingRuleCreateView.as_view(),
         name="api-catalog-routing-rules"),
    path("api/v1/routing-rules/<int:pk>/", views.RoutingRuleDetailView.as_view(), name="api-catalog-routing-rule"),
    path("api/v1/calendar-overrides/", views.CalendarOverrideListView.as_view(),
         name="api-catalog-calendar-overrides"),
    path("api/v1/calendar-overrides/<str:day>/", views.CalendarOverrideDetailView.as_view(),
         name="api-catalog-calendar-override"),
]
