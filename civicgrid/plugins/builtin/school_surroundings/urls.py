"""Console pages, mounted at /p/school_surroundings/ (reverse as "school_surroundings:<name>")."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.school_list, name="school-list"),
    path("schools/new/", views.school_create, name="school-create"),
    path("schools/<int:pk>/", views.school_detail, name="school-detail"),
    path("schools/<int:pk>/edit/", views.school_edit, name="school-edit"),
    path("schools/<int:pk>/rota/", views.rota, name="rota"),
    path("schools/<int:pk>/rota/<int:slot_pk>/", views.slot_edit, name="slot-edit"),
    path("schools/<int:pk>/rota/<int:slot_pk>/remove/", views.slot_remove, name="slot-remove"),
    path("duty/", views.duty, name="duty"),
    path("checkin/", views.checkin, name="checkin"),
]
