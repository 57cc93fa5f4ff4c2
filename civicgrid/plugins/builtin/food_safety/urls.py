"""The module's console pages (/p/food_safety/…) and API routes (/api/v1/p/food_safety/…)."""

from django.urls import path

from . import api, views

console_patterns = [
    path("", views.business_list, name="business-list"),
    path("businesses/new/", views.business_new, name="business-new"),
    path("businesses/<int:pk>/", views.business_detail, name="business-detail"),
    path("businesses/<int:pk>/edit/", views.business_edit, name="business-edit"),
    path("businesses/<int:pk>/complaint/", views.complaint_new, name="complaint-new"),
    path("inspections/", views.inspection_list, name="inspection-list"),
    path("inspections/<int:pk>/", views.inspection_detail, name="inspection-detail"),
    path("inspections/<int:pk>/photos/<int:result>/", views.inspection_photo, name="inspection-photo"),
    path("phone/", views.phone_businesses, name="phone-businesses"),
    path("phone/<int:pk>/inspect/", views.inspect, name="inspect"),
    path("phone/<int:pk>/inspect/send/", views.inspect_send, name="inspect-send"),
]

api_patterns = [
    path("businesses/", api.BusinessListView.as_view(), name="businesses"),
    path("businesses/<int:pk>/", api.BusinessDetailView.as_view(), name="business-detail"),
    path("businesses/<int:pk>/checklist/", api.ChecklistView.as_view(), name="business-checklist"),
    path("complaints/", api.ComplaintCreateView.as_view(), name="complaints"),
    path("inspections/", api.InspectionListView.as_view(), name="inspections"),
    path("inspections/<int:pk>/", api.InspectionDetailView.as_view(), name="inspection-detail"),
]
