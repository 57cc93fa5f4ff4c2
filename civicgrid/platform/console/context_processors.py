from civicgrid.plugins.manager import tenant_hooks


def site(request):
    tenant = getattr(request, "tenant", None)
    is_public = tenant is None or tenant.schema_name == "public"
    staff = getattr(request, "staff", None) or None
    return {
        "site_tenant": tenant,
        "site_is_public": is_public,
        "site_staff": staff,
        # Links from the plugins switched on here (a failing plugin is logged and left out by the manager).
        "plugin_nav": tenant_hooks(tenant).collect("civicgrid_console_nav", staff=staff)
        if staff and not is_public else [],
    }
