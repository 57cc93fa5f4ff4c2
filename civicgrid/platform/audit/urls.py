"""The audit page, mounted at /audit/ on tenant hosts."""

from django.urls import path

from . import views

app_name = "audit"

urlpatterns = [
    path("", views.page, name="audit-page"),
]
