"""The console's own pages on tenant hosts: queue, map, dashboards (the apps mount the rest)."""

from django.urls import path

from . import dashboard_views, map_views, queue_views

urlpatterns = [
    path("queue/", queue_views.queue, name="console-queue"),
    path("queue/accept/", queue_views.bulk_accept, name="console-queue-accept"),
    path("map/", map_views.map_page, name="console-map"),
    path("map/grids.geojson", map_views.grids_geojson, name="console-map-grids"),
    path("map/cases.geojson", map_views.cases_geojson, name="console-map-cases"),
    path("map/density.json", map_views.density, name="console-map-density"),
    path("map/grids/<str:code>/", map_views.grid_card, name="console-map-grid"),
    path("dashboard/", dashboard_views.dashboard_page, name="console-dashboard"),
    path("dashboard/warnings/<int:pk>/", dashboard_views.warning_page, name="console-warning"),
]
