"""The reporter's link: /r/<token>/ on the county's host."""

from django.urls import path

from . import public_views

urlpatterns = [
    path("<uuid:token>/", public_views.follow_case, name="case-follow"),
]
