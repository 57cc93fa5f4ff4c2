"""平安通: the grid worker's phone app, mounted at /m/ on tenant hosts."""

from django.urls import path

from . import worker_views

urlpatterns = [
    path("", worker_views.app_home, name="worker-app"),
    path("report/", worker_views.report_page, name="worker-report"),
    path("reports/", worker_views.reports, name="worker-reports"),  # JSON, for the offline queue
    path("tasks/", worker_views.tasks, name="worker-tasks"),
    path("households/", worker_views.households, name="worker-households"),
    path("households/<int:pk>/", worker_views.household, name="worker-household"),
    path("manifest.webmanifest", worker_views.manifest, name="worker-manifest"),
    path("sw.js", worker_views.service_worker, name="worker-service-worker"),
]
