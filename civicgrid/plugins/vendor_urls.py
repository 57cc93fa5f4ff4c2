"""A plugin vendor's page, mounted at /vendor/ on the province host."""

from django.urls import path

from . import views_vendor as views

app_name = "vendor"

urlpatterns = [
    path("", views.vendor_home, name="vendor-home"),
]
