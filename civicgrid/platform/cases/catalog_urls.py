"""Catalog console pages, mounted at /categories/ on tenant hosts. Codes are upper-case,
so the lower-case words below never collide with a category."""

from django.urls import path

from . import catalog_views as views

app_name = "catalog"

urlpatterns = [
    path("", views.tree, name="catalog-tree"),
    path("new/", views.category_new, name="catalog-category-new"),
    path("calendar/", views.calendar, name="catalog-calendar"),
    path("calendar/<str:day>/delete/", views.calendar_delete, name="catalog-calendar-delete"),
    path("rules/<int:pk>/delete/", views.rule_delete, name="catalog-rule-delete"),
    path("<str:code>/", views.category_edit, name="catalog-category-edit"),
    path("<str:code>/active/", views.category_active, name="catalog-category-active"),
    path("<str:code>/rules/", views.rule_set, name="catalog-rule-set"),
]
