from django.db import connection
from django.shortcuts import redirect, render

from civicgrid.platform.accounts.access import staff_required
from civicgrid.platform.accounts.selectors import staff_profile_for
from civicgrid.platform.accounts.staff.models import StaffProfile, StaffRole
from civicgrid.platform.audit.models import AuditEntry
from civicgrid.plugins.manager import tenant_hooks


def home(request):
    """The console's front page for whoever works in this tenant; a community site's
    editor (a member of the CMS only) goes on to the site editor."""
    if request.user.is_authenticated and not request.staff:
        editor = staff_profile_for(request.user, site_editors=True)
        if editor is not None and editor.role == StaffRole.COMMUNITY_EDITOR:
            return redirect("/cms-admin/")
    return _console_home(request)


@staff_required()
def _console_home(request):
    context = {"tenant": connection.tenant, "staff": request.staff,
               # The active plugins' boxes (a failing plugin is logged and left out by the manager).
               "widgets": tenant_hooks(connection.tenant).collect("civicgrid_dashboard_widgets", staff=request.staff)}
    if request.staff.role == StaffRole.COUNTY_ADMIN:
        context["members"] = StaffProfile.objects.select_related("user", "scope_org_unit", "scope_department").order_by("role", "user__username")
        context["recent_audit"] = AuditEntry.objects.all()[:10]
    return render(request, "console/home.html", context)
