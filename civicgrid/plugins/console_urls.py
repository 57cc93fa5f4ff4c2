"""A county admin's plugin pages, mounted at /plugins/ on tenant hosts."""

from django.urls import path

from . import views_console as views

app_name = "plugins"

urlpatterns = [
    path("", views.plugin_list, name="plugin-list"),
    path("<str:plugin_id>/enable/", views.plugin_enable, name="plugin-enable"),
    path("<str:plugin_id>/disable/", views.plugin_disable, name="plugin-disable"),
]
