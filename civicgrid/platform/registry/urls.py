"""Registry console pages, mounted at /registry/ on tenant hosts.

Every path is spelled out: /registry/imports/ and /registry/verify/ are mounted
after this module, so a catch-all pattern here would swallow them."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="registry-home"),
    path("persons/", views.person_list, name="registry-persons"),
    path("persons/new/", views.person_create, name="registry-person-create"),
    path("persons/<int:pk>/", views.person_detail, name="registry-person"),
    path("persons/<int:pk>/unmask/", views.person_unmask, name="registry-person-unmask"),
    path("persons/<int:pk>/anonymise/", views.person_anonymise, name="registry-person-anonymise"),
    path("households/", views.household_list, name="registry-households"),
    path("buildings/", views.building_list, name="registry-buildings"),
    path("houses/", views.house_list, name="registry-houses"),
    path("places/", views.place_list, name="registry-places"),
    path("organisations/", views.organisation_list, name="registry-organisations"),
    path("things/", views.thing_list, name="registry-things"),
    path("care-records/", views.care_record_list, name="registry-care-records"),
]
