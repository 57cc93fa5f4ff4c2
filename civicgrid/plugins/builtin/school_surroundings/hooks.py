"""The module's hooks: categories, a case reported inside a zone, the console's and the
phone's entries, the home page's box, pages, API and the schools' import."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from civicgrid.plugins import NavEntry, Widget, hookimpl

from . import selectors
from .categories import CATEGORIES


@hookimpl
def civicgrid_case_categories():
    return list(CATEGORIES)


@hookimpl
def civicgrid_case_reported(event):
    from .actions import note_case_in_zone

    note_case_in_zone(case_id=event.case_id)


@hookimpl
def civicgrid_console_nav(staff):
    entries = []
    if staff.role in selectors.VIEW_ROLES:
        entries.append(NavEntry(label=_("Schools and surroundings"), url=reverse("school_surroundings:school-list")))
        entries.append(NavEntry(label=_("School patrols today"), url=reverse("school_surroundings:duty")))
    if staff.role in selectors.PATROL_ROLES:
        entries.append(NavEntry(label=_("School patrol check-in"), url=reverse("school_surroundings:checkin")))
    return entries


@hookimpl
def civicgrid_phone_entries(staff):
    if staff.role not in selectors.PATROL_ROLES:
        return []
    return [NavEntry(label=_("School patrol check-in"), url=reverse("school_surroundings:checkin"))]


@hookimpl
def civicgrid_dashboard_widgets(staff):
    if staff.role not in selectors.VIEW_ROLES:
        return []
    figures = selectors.figures(staff)
    return [Widget(
        title=_("Schools and surroundings"), value=str(figures.hazards),
        text=_("open hazards inside %(schools)d school zones · patrols today: %(done)d done, %(missed)d missed, "
               "%(planned)d planned") % {"schools": figures.schools, "done": figures.done,
                                          "missed": figures.missed, "planned": figures.planned},
        url=reverse("school_surroundings:duty") if figures.missed else reverse("school_surroundings:school-list"))]


@hookimpl
def civicgrid_console_urls():
    from .urls import urlpatterns

    return urlpatterns


@hookimpl
def civicgrid_api_urls():
    from .api import urlpatterns

    return urlpatterns


@hookimpl
def civicgrid_import_targets():
    from .imports import target

    return [target()]
