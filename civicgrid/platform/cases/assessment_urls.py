"""Assessment console pages, mounted at /assessment/ on tenant hosts."""

from django.urls import path

from . import assessment_views as views

app_name = "assessment"

urlpatterns = [
    path("", views.page, name="assessment-page"),
    path("weights/", views.weights, name="assessment-weights"),
]
