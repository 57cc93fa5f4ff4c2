from dataclasses import dataclass

from django.utils.functional import SimpleLazyObject

from civicgrid.platform.notifications.selectors import inbox_state
from civicgrid.plugins.manager import tenant_hooks

from .navigation import breadcrumbs, console_navigation


@dataclass(frozen=True)
class InboxState:
    unread: int
    newest: int  # the page's ``since`` cursor: notifications after it pop up


def site(request):
    tenant = getattr(request, "tenant", None)
    is_public = tenant is None or tenant.schema_name == "public"
    staff = getattr(request, "staff", None) or None
    if getattr(request, "second_factor_pending", False):
        staff = None  # the second-factor pages show no navigation and no inbox
    in_console = bool(staff) and not is_public
    # Links from the plugins switched on here (a failing plugin is logged and left out by the manager).
    plugin_nav = tenant_hooks(tenant).collect("civicgrid_console_nav", staff=staff) if in_console else []
    navigation = console_navigation(staff, request.path, plugin_nav) if in_console else []
    return {
        "site_tenant": tenant,
        "site_is_public": is_public,
        "site_staff": staff,
        "plugin_nav": plugin_nav,
        "site_navigation": navigation,
        "site_breadcrumbs": breadcrumbs(navigation) if in_console else [],
        # The unread counter and the live socket's cursor; read only by pages that show the top bar.
        "site_inbox": SimpleLazyObject(lambda: InboxState(*inbox_state(request.user))) if in_console else None,
    }
