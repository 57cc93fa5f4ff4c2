"""My queue: the cases waiting for me, with counts per light and bulk accept for coordinators."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from civicgrid.platform.accounts.access import staff_required
from civicgrid.platform.accounts.staff.models import StaffRole
from civicgrid.platform.cases import actions, rules
from civicgrid.platform.cases.actions import CaseConflict
from civicgrid.platform.cases.lights import Light
from civicgrid.platform.cases.models import Status
from civicgrid.platform.cases.queues import light_counts, queue_for, queue_rows

PAGE_SIZE = 50
QUEUE_ROLES = tuple(role for role in StaffRole.values if role not in (StaffRole.AUDITOR, StaffRole.COMMUNITY_EDITOR))
BULK_ACCEPT_LIMIT = 200


def _may_bulk_accept(staff) -> bool:
    return any(rules.role_may("accept", role=staff.role, level=level) for level in rules.COORDINATORS)


@staff_required(*QUEUE_ROLES)
def queue(request):
    staff = request.staff
    now = timezone.now()
    cases = queue_for(staff, now=now)
    chosen_light = request.GET.get("light") if request.GET.get("light") in {light.value for light in Light} else ""
    counts = light_counts(cases)
    if chosen_light:
        cases = cases.filter(light=chosen_light)
    paginator = Paginator(cases, PAGE_SIZE)
    # The counts per light already say how many there are: no second COUNT over the queue.
    paginator.count = counts[chosen_light] if chosen_light else counts["total"]
    page = paginator.get_page(request.GET.get("page"))
    offset = (page.number - 1) * PAGE_SIZE
    rows = queue_rows(cases, start=offset, stop=offset + PAGE_SIZE)
    for row in rows:
        row["acceptable"] = row["case"].status == Status.REPORTED
    return render(request, "console/queue.html", {
        "counts": counts, "rows": rows, "page": page, "chosen_light": chosen_light,
        "query": f"light={chosen_light}" if chosen_light else "",
        "bulk_accept": _may_bulk_accept(staff) and any(row["acceptable"] for row in rows),
    })


@require_POST
@staff_required(*QUEUE_ROLES)
def bulk_accept(request):
    """Accepts each chosen case the member may accept; one transaction per case, so one
    that changed meanwhile (someone else accepted it) is reported and the rest go ahead."""
    staff = request.staff
    if not _may_bulk_accept(staff):
        return redirect("console-queue")
    ids = [value for value in request.POST.getlist("case")[:BULK_ACCEPT_LIMIT] if value.isdigit()]
    accepted, refused = 0, []
    for case_id in ids:
        try:
            actions.accept_case(staff=staff, case_id=int(case_id), comment=_("Accepted from the queue"))
            accepted += 1
        except (ValidationError, CaseConflict) as problem:
            refused.append(f"#{case_id}: {getattr(problem, 'message', None) or ' '.join(problem.messages)}")
        except Http404:  # not theirs, or not there: said the same way
            refused.append(f"#{case_id}: {_('not found')}")
    if accepted:
        messages.success(request, ngettext("%(n)d case accepted.", "%(n)d cases accepted.", accepted) % {"n": accepted})
    if refused:
        messages.warning(request, _("Not accepted: %(list)s") % {"list": "; ".join(refused)})
    if not ids:
        messages.warning(request, _("Tick the cases to accept first."))
    return redirect("console-queue")
