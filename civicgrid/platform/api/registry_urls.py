"""Registry API routes, mounted at the site root of tenant hosts (full paths under api/v1/)."""

from django.urls import path, re_path

from . import registry as views

PREFIX = "api/v1/registry"
EXPORT = r"export\.(?P<fmt>csv|xlsx)$"


def _routes_for(plural, list_view, detail_view, export_view):
    return [
        path(f"{PREFIX}/{plural}/", list_view.as_view(), name=f"api-registry-{plural}"),
        path(f"{PREFIX}/{plural}/<int:pk>/", detail_view.as_view(), name=f"api-registry-{plural}-detail"),
        re_path(rf"^{PREFIX}/{plural}/{EXPORT}", export_view.as_view(), name=f"api-registry-{plural}-export"),
    ]


urlpatterns = [
    # Before the kinds' routes: "search" is not a person's number, but read it first anyway.
    path(f"{PREFIX}/persons/search/", views.PersonSearchView.as_view(), name="api-registry-persons-search"),
    path(f"{PREFIX}/persons/<int:pk>/unmask/", views.PersonUnmaskView.as_view(), name="api-registry-persons-unmask"),
    path(f"{PREFIX}/care-kinds/", views.CareKindListView.as_view(), name="api-registry-care-kinds"),
    path(f"{PREFIX}/care-kinds/<str:code>/", views.CareKindDetailView.as_view(),
         name="api-registry-care-kinds-detail"),
    *_routes_for("care-records", views.CareRecordListView, views.CareRecordDetailView, views.CareRecordExportView),
]
for _kind in views.KINDS:
    urlpatterns += _routes_for(_kind.plural, *views.views_for(_kind))
