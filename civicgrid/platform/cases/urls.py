"""Case pages of the console, mounted at /cases/ on tenant hosts."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.case_list, name="case-list"),
    path("new/", views.case_new, name="case-new"),
    path("<int:pk>/", views.case_detail, name="case-detail"),
    path("<int:pk>/files/<int:attachment>/", views.case_file, name="case-file"),
    path("<int:pk>/files/<int:attachment>/thumbnail/", views.case_thumbnail, name="case-thumbnail"),
    # One POST per workflow action (accept, dispatch, handle …); unknown names are not found.
    path("<int:pk>/<slug:action>/", views.case_action, name="case-action"),
]
