from django.http import Http404
from django.shortcuts import render
from django.urls import set_urlconf
from django_tenants.middleware.main import TenantMainMiddleware

from .hosts import tenant_for_host

# What a community's own host answers: its Wagtail site and the residents' forms, nothing else.
COMMUNITY_SITE_URLCONF = "civicgrid.config.urls_site"


class TenantFromHostMiddleware(TenantMainMiddleware):
    """django-tenants' host → schema resolution; unknown hosts get 404 and
    suspended tenants a plain notice, never another tenant's data. A host that
    serves a community site gets the site's URLs instead of the console's."""

    TENANT_NOT_FOUND_EXCEPTION = Http404

    def get_tenant(self, domain_model, hostname):
        return tenant_for_host(hostname)  # kept per process: no query on most requests

    def process_request(self, request):
        response = super().process_request(request)
        if response is not None:
            return response
        tenant = getattr(request, "tenant", None)
        if tenant is not None and tenant.status == tenant.Status.SUSPENDED:
            return render(request, "console/suspended.html", {"tenant": tenant}, status=503)
        if getattr(tenant, "domain_serves", "") == "community_site":
            request.urlconf = COMMUNITY_SITE_URLCONF
            set_urlconf(request.urlconf)
        return None
