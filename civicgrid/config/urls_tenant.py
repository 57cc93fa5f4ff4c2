"""A city's or county's site: the operators' console and the tenant API."""

from django.urls import include, path, re_path
from wagtail import views as wagtail_views
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from civicgrid.cms import views as cms_views
from civicgrid.platform.api.urls import tenant_urlpatterns as api_urls
from civicgrid.platform.console import views as console_views
from civicgrid.plugins import urls as plugin_urls

urlpatterns = [
    path("", console_views.home, name="console-home"),
    path("", include("civicgrid.platform.console.urls")),
    path("m/", include("civicgrid.platform.console.worker_urls")),  # 平安通, the grid worker's phone app
    path("accounts/", include("civicgrid.platform.accounts.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("org/", include("civicgrid.platform.org.urls")),
    path("registry/", include("civicgrid.platform.registry.urls")),
    path("registry/imports/", include("civicgrid.platform.registry.imports.urls")),
    path("registry/verify/", include("civicgrid.platform.registry.verification.urls")),
    path("cases/", include("civicgrid.platform.cases.urls")),
    path("r/", include("civicgrid.platform.cases.public_urls")),  # the reporter's link: no sign-in
    path("categories/", include("civicgrid.platform.cases.catalog_urls")),
    path("assessment/", include("civicgrid.platform.cases.assessment_urls")),
    path("audit/", include("civicgrid.platform.audit.urls")),  # the auditor's reading of the audit trail
    path("supervision/", include("civicgrid.province.supervision_urls")),  # a city's view of its counties
    path("notifications/", include("civicgrid.platform.notifications.urls")),
    path("open311/v2/", include("civicgrid.platform.api.open311.urls")),
    path("api-tokens/", include("civicgrid.platform.api.tokens.urls")),  # the county admin's API tokens
    path("plugins/", include("civicgrid.plugins.console_urls")),  # a county switches plugins on and off
    path("cms/sites/", include("civicgrid.cms.urls")),  # making community sites and their editors
    path("cms-admin/", include(wagtailadmin_urls)),  # Wagtail's admin, for the tenant's members in a CMS role
    path("cms-media/<path:name>", cms_views.media, name="cms-media"),
    path("documents/", include(wagtaildocs_urls)),
    # Each installed plugin's own pages and API, answering 404 where it is switched off.
    *plugin_urls.console_urlpatterns(),
    *plugin_urls.api_urlpatterns(),
    *api_urls,
    # API modules: each declares full paths under api/v1/.
    path("", include("civicgrid.platform.org.api_urls")),
    path("", include("civicgrid.platform.api.registry_urls")),
    path("", include("civicgrid.platform.registry.verification.api_urls")),
    path("", include("civicgrid.platform.api.cases_urls")),
    path("", include("civicgrid.platform.api.notifications_urls")),
    path("", include("civicgrid.platform.api.assessment_urls")),
    path("", include("civicgrid.platform.api.catalog_urls")),
    # Last: Wagtail's page route, so page URLs can be built here (the editor's "view live" links
    # to a community's host). This host has no Wagtail site, so it serves no page: 404.
    # Never under api/ or open311/: their clients get their own 404, not a page view's CSRF refusal.
    re_path(r"^(?!api/|open311/)((?:[\w\-]+/)*)$", wagtail_views.serve, name="wagtail_serve"),
]

# Errors before a view answers (no route, a body too big, a crash) in the format of the
# endpoint family asked: JSON under /api/ and /open311/, the console's pages elsewhere.
handler400 = "civicgrid.platform.api.error_handlers.bad_request"
handler403 = "civicgrid.platform.api.error_handlers.permission_denied"
handler404 = "civicgrid.platform.api.error_handlers.page_not_found"
handler500 = "civicgrid.platform.api.error_handlers.server_error"
