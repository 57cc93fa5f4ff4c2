"""A city's supervision page, mounted on tenant hosts at /supervision/ (404 on a county's)."""

from django.urls import path

from . import supervision_views

urlpatterns = [
    path("", supervision_views.city_page, name="city-supervision"),
]
