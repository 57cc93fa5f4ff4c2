"""Notifications API routes, mounted at the site root of tenant hosts."""

from django.urls import path

from . import notifications as views

urlpatterns = [
    path("api/v1/notifications/", views.NotificationListView.as_view(), name="api-notifications"),
    path("api/v1/notifications/read-all/", views.NotificationReadAllView.as_view(), name="api-notifications-read-all"),
    path("api/v1/notifications/<int:pk>/read/", views.NotificationReadView.as_view(),
         name="api-notifications-read"),
]
