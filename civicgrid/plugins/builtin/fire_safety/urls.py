from django.urls import path

from . import views


def console_patterns() -> list:
    return [
        path("", views.overview, name="overview"),
        path("units/", views.unit_list, name="unit-list"),
        path("units/new/", views.unit_new, name="unit-new"),
        path("units/<int:pk>/", views.unit_detail, name="unit-detail"),
        path("units/<int:pk>/edit/", views.unit_edit, name="unit-edit"),
        path("units/<int:pk>/photos/<int:result>/", views.inspection_photo, name="inspection-photo"),
        path("inspections/", views.inspection_list, name="inspection-list"),
        path("checklists/", views.checklist_editor, name="checklists"),
        path("checklists/<int:pk>/", views.checklist_item, name="checklist-item"),
        path("checklists/<int:pk>/remove/", views.checklist_remove, name="checklist-remove"),
        path("m/", views.phone_units, name="phone-units"),
        path("m/units/<int:pk>/", views.phone_inspect, name="phone-inspect"),
        path("m/units/<int:pk>/send/", views.phone_send, name="phone-send"),
    ]
