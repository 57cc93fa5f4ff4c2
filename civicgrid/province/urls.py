from django.urls import path

from . import supervision_views, views

app_name = "province"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("onboarding/<uuid:job_id>/", views.job_page, name="job"),
    path("onboarding/<uuid:job_id>/progress.json", views.job_progress, name="job-progress"),
    path("tenants/<str:code>/suspend/", views.suspend, name="suspend"),
    path("tenants/<str:code>/resume/", views.resume, name="resume"),
    path("tenants/<str:code>/offboard/", views.offboard, name="offboard"),
    path("supervision/", supervision_views.province_page, name="province-supervision"),
]
