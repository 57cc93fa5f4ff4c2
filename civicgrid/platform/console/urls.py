"""The console's own pages on tenant hosts: queue, map, dashboards (the apps mount the rest)."""

from django.urls import path

from . import queue_views

urlpatterns = [
    path("queue/", queue_views.queue, name="console-queue"),
    path("queue/accept/", queue_views.bulk_accept, name="console-queue-accept"),
]
