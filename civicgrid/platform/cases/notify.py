"""Who hears about each step of a case. Stored in the action's transaction (the
inbox is the truth); the outbox event then nudges open pages."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from civicgrid.platform.accounts.staff.models import StaffProfile, StaffRole
from civicgrid.platform.notifications.models import Notification

from .models import Case, Level

TITLES = {
    "report": _("New case %(number)s: %(title)s"),
    "dispatch": _("Case %(number)s was dispatched to your department"),
    "transfer": _("Case %(number)s was transferred to your department"),
    "return": _("Case %(number)s was returned: dispatch it again"),
    "escalate": _("Case %(number)s was escalated to you"),
    "request_extension": _("Case %(number)s: an extension is requested"),
    "decide_extension": _("Case %(number)s: the extension request was decided"),
    "handle": _("Case %(number)s was handled: revisit and close it"),
    "close": _("Case %(number)s is closed"),
    "reopen": _("Case %(number)s was reopened"),
    "supervise": _("Case %(number)s is under supervision"),
    "reject": _("Case %(number)s was not accepted as a case"),
    "link_duplicate": _("Case %(number)s follows another case about the same problem"),
}
# Actions whose news goes to the department now holding the case.
TO_DEPARTMENT = {"dispatch", "transfer", "supervise", "decide_extension"}
# Actions whose news goes to whoever coordinates the case at its level.
TO_COORDINATORS = {"report", "return", "escalate", "request_extension", "handle", "reopen"}
# Actions the reporter hears about.
TO_REPORTER = {"handle", "close", "reject", "link_duplicate"}

LEVEL_ROLES = {
    Level.COUNTY: [StaffRole.COMMAND_OPERATOR],
    Level.TOWNSHIP: [StaffRole.TOWNSHIP_OPERATOR],
    Level.COMMUNITY: [StaffRole.COMMUNITY_OPERATOR],
}


def tells_department(action: str, case: Case) -> bool:
    """Whether this step notifies every handler of the department now holding the case."""
    return action in TO_DEPARTMENT and case.department_id is not None


def recipients(case: Case, action: str, actor) -> set[int]:
    users: set[int] = set()
    staff = StaffProfile.objects.filter(is_active=True)
    if tells_department(action, case):
        users.update(staff.filter(role=StaffRole.DEPARTMENT_HANDLER, scope_department_id=case.department_id)
                     .values_list("user_id", flat=True))
    if action in TO_COORDINATORS:
        for profile in staff.filter(role__in=LEVEL_ROLES[case.level]).select_related("scope_org_unit"):
            unit = profile.scope_org_unit
            if unit is None or (case.org_path and case.org_path.startswith(unit.path)):
                users.add(profile.user_id)
    if action in TO_REPORTER and case.reporter_id:
        users.add(case.reporter_id)
    users.discard(getattr(actor, "pk", None))  # nobody needs news of their own step
    return users


def store(case: Case, action: str, *, actor) -> list[int]:
    """Store the step's notifications; their ids go with the outbox event, so
    channels (SMS, WeChat plugins) deliver exactly these after commit."""
    title = TITLES.get(action)
    if title is None:
        return []
    text = str(title) % {"number": case.number, "title": case.title}
    rows = [Notification(recipient_id=user, topic=f"case.{action}", title=text[:200], case=case,
                         url=f"/cases/{case.pk}/") for user in recipients(case, action, actor)]
    return [row.pk for row in Notification.objects.bulk_create(rows)]
