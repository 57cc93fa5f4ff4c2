"""The province site (the base domain): portal, provincial admin, province API."""

from django.urls import include, path

from civicgrid.platform.api.urls import public_urlpatterns as api_urls
from civicgrid.province import views as province_views
from civicgrid.province.api import urlpatterns as province_api_urls

urlpatterns = [
    path("", province_views.portal, name="portal"),
    path("province/", include("civicgrid.province.urls")),
    path("province/plugins/", include("civicgrid.plugins.province_urls")),  # catalog, prices, statements
    path("vendor/", include("civicgrid.plugins.vendor_urls")),  # a vendor's usage and revenue
    path("accounts/", include("civicgrid.platform.accounts.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    *api_urls,
    *province_api_urls,  # api/v1/tenants/, api/v1/onboarding-jobs/
]

# Errors before a view answers (no route, a body too big, a crash) in the format of the
# endpoint family asked: JSON under /api/ and /open311/, the console's pages elsewhere.
handler400 = "civicgrid.platform.api.error_handlers.bad_request"
handler403 = "civicgrid.platform.api.error_handlers.permission_denied"
handler404 = "civicgrid.platform.api.error_handlers.page_not_found"
handler500 = "civicgrid.platform.api.error_handlers.server_error"
