from django.http import Http404
from django.shortcuts import render
from django_tenants.middleware.main import TenantMainMiddleware


class TenantFromHostMiddleware(TenantMainMiddleware):
    """django-tenants' host → schema resolution; unknown hosts get 404 and
    suspended tenants a plain notice, never another tenant's data."""

    TENANT_NOT_FOUND_EXCEPTION = Http404

    def process_request(self, request):
        response = super().process_request(request)
        if response is not None:
            return response
        tenant = getattr(request, "tenant", None)
        if tenant is not None and tenant.status == tenant.Status.SUSPENDED:
            return render(request, "console/suspended.html", {"tenant": tenant}, status=503)
        return None
