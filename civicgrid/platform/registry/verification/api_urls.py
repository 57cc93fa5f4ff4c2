"""The verification API; mounted at the site root, so paths are full."""

from django.urls import path

from . import api

urlpatterns = [
    path("api/v1/registry/verifications/", api.VerificationView.as_view(), name="api-registry-verifications"),
]
