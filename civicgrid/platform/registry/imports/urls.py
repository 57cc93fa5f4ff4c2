from django.urls import path

from . import views

app_name = "registry_imports"

urlpatterns = [
    path("", views.imports, name="registry-imports"),
    path("<int:batch_id>/", views.batch_page, name="registry-import"),
    path("<int:batch_id>/progress/", views.batch_progress, name="registry-import-progress"),
    path("<int:batch_id>/report.<str:fmt>", views.batch_report, name="registry-import-report"),
]
