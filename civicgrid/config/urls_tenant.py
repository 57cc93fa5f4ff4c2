"""A city's or county's site: the operators' console and the tenant API."""

from django.urls import include, path

from civicgrid.platform.api.urls import tenant_urlpatterns as api_urls
from civicgrid.platform.console import views as console_views

urlpatterns = [
    path("", console_views.home, name="console-home"),
    path("accounts/", include("civicgrid.platform.accounts.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    *api_urls,
]
