from django.urls import path

from . import console_views

urlpatterns = [
    path("", console_views.site_list, name="cms-sites"),
    path("<slug:slug>/editors/", console_views.add_editor, name="cms-site-editor"),
]
