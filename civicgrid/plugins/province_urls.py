"""The provincial admin's plugin pages, mounted at /province/plugins/ on the province host.
A plugin's own page sits under catalog/ so no plugin id can shadow refresh/ or statements/."""

from django.urls import path

from . import views_province as views

app_name = "province-plugins"

urlpatterns = [
    path("", views.catalog_page, name="plugin-catalog"),
    path("refresh/", views.catalog_refresh, name="plugin-catalog-refresh"),
    path("statements/", views.statements, name="plugin-statements"),
    path("catalog/<str:plugin_id>/", views.entry_page, name="plugin-entry"),
    path("catalog/<str:plugin_id>/publish/", views.publish, name="plugin-publish"),
    path("catalog/<str:plugin_id>/price/", views.set_price, name="plugin-price"),
]
