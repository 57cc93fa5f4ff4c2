"""Verifying lists of people (name + ID number + address) against the registry.

Mounted at /registry/verify/ on tenant hosts."""

from django.urls import path, re_path

from . import views

urlpatterns = [
    path("", views.upload, name="registry-verify"),
    re_path(r"^(?P<run_id>[0-9a-f]{32})/$", views.result, name="registry-verify-result"),
    re_path(r"^(?P<run_id>[0-9a-f]{32})/download\.(?P<fmt>csv|xlsx)$", views.download,
            name="registry-verify-download"),
]
