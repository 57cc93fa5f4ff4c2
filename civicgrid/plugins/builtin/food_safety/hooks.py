"""The food-safety module's hooks: what it brings into a tenant where it is switched on."""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils.translation import gettext as _

from civicgrid.plugins import NavEntry, PeriodicJob, Widget, hookimpl

from . import categories


@hookimpl
def civicgrid_case_categories():
    return list(categories.SPECS)


@hookimpl
def civicgrid_tenant_seed(tenant):
    from .checklist import seed_checklist

    seed_checklist()


@hookimpl
def civicgrid_import_targets():
    from .imports import target

    return [target()]


@hookimpl
def civicgrid_case_transitioned(event):
    """A case about a business handled after its re-inspection had already passed: closed."""
    from civicgrid.plugins.builtin.checklists.follow_up import close_when_handled

    from .actions import FOLLOW_UP

    close_when_handled(event, FOLLOW_UP)


@hookimpl
def civicgrid_console_urls():
    from .urls import console_patterns

    return console_patterns


@hookimpl
def civicgrid_api_urls():
    from .urls import api_patterns

    return api_patterns


@hookimpl
def civicgrid_console_nav(staff):
    from .selectors import may_view

    if not may_view(staff):
        return []
    return [NavEntry(label=_("Food safety"), url=reverse("food_safety:business-list"))]


@hookimpl
def civicgrid_phone_entries(staff):
    from .selectors import may_inspect

    if not may_inspect(staff):
        return []
    return [NavEntry(label=_("Food safety inspections"), url=reverse("food_safety:phone-businesses"))]


@hookimpl
def civicgrid_dashboard_widgets(staff):
    from .selectors import figures, may_view

    if not may_view(staff):
        return []
    f = figures(staff)
    url = reverse("food_safety:business-list")
    return [
        Widget(title=_("Food businesses"), value=str(f.businesses),
               text=_("%(expiring)d licences expire within 30 days, %(expired)d expired")
               % {"expiring": f.expiring, "expired": f.expired}, url=url),
        Widget(title=_("Open food cases"), value=str(f.open_cases),
               text=_("%(n)d inspections this month") % {"n": f.inspections_this_month},
               url=reverse("food_safety:inspection-list")),
    ]


@hookimpl
def civicgrid_periodic_jobs():
    from .reminders import remind_expiring_licences

    return [PeriodicJob(name="licence-reminders", every=timedelta(hours=1), run=remind_expiring_licences)]
