"""平安通: the grid worker's phone app, mounted at /m/ on tenant hosts."""

from django.urls import path

from . import worker_views

urlpatterns = [
    path("", worker_views.app_home, name="worker-app"),
]
