"""Cases API routes, mounted at the site root of tenant hosts (full paths under api/v1/)."""

from django.urls import path

from . import cases as views

PREFIX = "api/v1/cases"

urlpatterns = [
    path(f"{PREFIX}/", views.CaseListView.as_view(), name="api-cases"),
    path(f"{PREFIX}/<int:pk>/", views.CaseDetailView.as_view(), name="api-cases-detail"),
    path(f"{PREFIX}/<int:pk>/suggested-department/", views.SuggestedDepartmentView.as_view(),
         name="api-cases-suggested-department"),
    *[path(f"{PREFIX}/<int:pk>/{operation.slug}/", views.operation_view(operation).as_view(),
           name=f"api-cases-{operation.slug}") for operation in views.OPERATIONS],
    path("api/v1/case-categories/", views.CategoryTreeView.as_view(), name="api-case-categories"),
]
