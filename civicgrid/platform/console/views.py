from django.db import connection
from django.shortcuts import render

from civicgrid.platform.accounts.access import staff_required
from civicgrid.platform.accounts.staff.models import StaffProfile, StaffRole
from civicgrid.platform.audit.models import AuditEntry
from civicgrid.plugins.manager import tenant_hooks


@staff_required()
def home(request):
    """The console's front page for whoever works in this tenant."""
    context = {"tenant": connection.tenant, "staff": request.staff,
               # The active plugins' boxes (a failing plugin is logged and left out by the manager).
               "widgets": tenant_hooks(connection.tenant).collect("civicgrid_dashboard_widgets", staff=request.staff)}
    if request.staff.role == StaffRole.COUNTY_ADMIN:
        context["members"] = StaffProfile.objects.select_related("user", "scope_org_unit", "scope_department").order_by("role", "user__username")
        context["recent_audit"] = AuditEntry.objects.all()[:10]
    return render(request, "console/home.html", context)
