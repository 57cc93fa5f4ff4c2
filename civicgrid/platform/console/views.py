from django.db import connection
from django.shortcuts import redirect, render
from django.utils import timezone

from civicgrid.platform.accounts.access import staff_required
from civicgrid.platform.accounts.selectors import staff_profile_for
from civicgrid.platform.accounts.staff.models import StaffProfile, StaffRole
from civicgrid.platform.audit.models import AuditEntry
from civicgrid.platform.cases import rules
from civicgrid.platform.cases.models import EarlyWarning
from civicgrid.platform.cases.queues import light_counts, queue_for
from civicgrid.platform.cases.selectors import cases_for
from civicgrid.plugins.manager import tenant_hooks

WARNING_ROLES = {StaffRole.COUNTY_ADMIN, StaffRole.COMMAND_OPERATOR, StaffRole.AUDITOR}


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
    """What waits for me, what came in today, today's warnings, and the way to each page."""
    staff = request.staff
    today = timezone.localdate()
    context = {
        "tenant": connection.tenant, "staff": staff,
        "queue": light_counts(queue_for(staff)) if staff.role != StaffRole.AUDITOR else None,
        "reported_today": cases_for(staff).filter(reported_at__date=today).count(),
        "may_report": staff.role in rules.REPORTER_ROLES,
        "warnings": list(EarlyWarning.objects.select_related("category", "area").filter(day=today))
        if staff.role in WARNING_ROLES else [],
        # The active plugins' boxes (a failing plugin is logged and left out by the manager).
        "widgets": tenant_hooks(connection.tenant).collect("civicgrid_dashboard_widgets", staff=staff),
    }
    if staff.role == StaffRole.COUNTY_ADMIN:
        context["members"] = StaffProfile.objects.select_related("user", "scope_org_unit", "scope_department").order_by("role", "user__username")
        context["recent_audit"] = AuditEntry.objects.all()[:10]
    return render(request, "console/home.html", context)
