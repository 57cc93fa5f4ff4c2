def site(request):
    tenant = getattr(request, "tenant", None)
    return {
        "site_tenant": tenant,
        "site_is_public": tenant is None or tenant.schema_name == "public",
        "site_staff": getattr(request, "staff", None) or None,
    }
