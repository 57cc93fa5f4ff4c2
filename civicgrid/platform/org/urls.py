"""Console pages, mounted at /org/ on tenant hosts."""

from django.urls import path

from . import views

app_name = "org"

urlpatterns = [
    path("", views.tree, name="org-tree"),
    path("units/<str:code>/", views.unit, name="org-unit"),
    path("departments/", views.departments, name="org-departments"),
    path("staff/", views.staff, name="org-staff"),
    path("import/tree/", views.import_tree, name="org-import-tree"),
    path("import/grids/", views.import_grids, name="org-import-grids"),
]
