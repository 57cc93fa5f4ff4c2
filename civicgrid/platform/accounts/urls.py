from django.contrib.auth import views as auth_views
from django.urls import path

from . import two_factor_views, views
from .access import member_here_required

app_name = "accounts"

urlpatterns = [
    path("login/", views.SignInView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("two-factor/", two_factor_views.verify_page, name="two-factor-verify"),
    path("two-factor/enrol/", two_factor_views.enrol_page, name="two-factor-enrol"),
    path("password/", member_here_required(auth_views.PasswordChangeView.as_view(
        template_name="accounts/password_change.html", success_url="/accounts/password/done/")),
         name="password-change"),
    path("password/done/", member_here_required(auth_views.PasswordChangeDoneView.as_view(
        template_name="accounts/password_changed.html")), name="password-changed"),
]
