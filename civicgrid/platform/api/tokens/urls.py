"""Mounted at /api-tokens/ on tenant hosts (the console's page, not the API)."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.token_list, name="api-tokens"),
    path("<int:pk>/revoke/", views.token_revoke, name="api-token-revoke"),
]
