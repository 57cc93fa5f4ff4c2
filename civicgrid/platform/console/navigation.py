"""The console's left navigation, built from the actor's role and the tenant's active plugins.

One table says which role sees which page; the views still check their own roles (a link
left out is a convenience, never the protection). The active entry and the breadcrumbs
come from the request's path.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from civicgrid.platform.accounts.staff.models import StaffRole as R

ALL = frozenset(R.values) - {R.COMMUNITY_EDITOR}
DESK = ALL - {R.GRID_WORKER}


@dataclass(frozen=True)
class Entry:
    label: str
    url_name: str
    roles: frozenset = ALL
    icon: str = ""
    # Tenant levels the page exists on ("city", "county"); empty: every tenant.
    levels: frozenset = frozenset()


@dataclass
class Link:
    label: str
    url: str
    active: bool = False
    icon: str = ""


@dataclass
class Section:
    label: str
    links: list[Link] = field(default_factory=list)


SECTIONS: list[tuple[str, list[Entry]]] = [
    (pgettext_lazy("navigation", "Work"), [
        Entry(_("Overview"), "console-home", icon="home"),
        Entry(_("My queue"), "console-queue", ALL - {R.AUDITOR}, icon="queue"),
        Entry(_("Cases"), "case-list", icon="cases"),
        Entry(_("Grid map"), "console-map", icon="map"),
        Entry(_("Safe Grid app"), "worker-app", frozenset({R.GRID_WORKER}), icon="phone"),
        Entry(_("Notifications"), "notifications:inbox", icon="bell"),
    ]),
    (pgettext_lazy("navigation", "Supervision"), [
        Entry(_("Dashboard"), "console-dashboard", DESK, icon="chart"),
        Entry(_("Assessment"), "assessment:assessment-page", ALL - {R.COMMUNITY_OPERATOR}, icon="rank"),
        Entry(_("Audit trail"), "audit:audit-page", frozenset({R.AUDITOR, R.COUNTY_ADMIN}), icon="check"),
        Entry(_("County supervision"), "city-supervision", frozenset({R.COUNTY_ADMIN, R.COMMAND_OPERATOR, R.AUDITOR}),
              icon="chart", levels=frozenset({"city"})),
    ]),
    (pgettext_lazy("navigation", "Registry"), [
        Entry(pgettext_lazy("navigation", "People and places"), "registry-home", icon="people"),
        Entry(_("Verification"), "registry-verify", ALL - {R.GRID_WORKER, R.AUDITOR}, icon="check"),
        Entry(_("Imports"), "registry_imports:registry-imports", frozenset({R.COUNTY_ADMIN, R.COMMAND_OPERATOR}),
              icon="upload"),
    ]),
    (pgettext_lazy("navigation", "Settings"), [
        Entry(_("Org tree"), "org:org-tree", icon="tree"),
        Entry(_("Categories"), "catalog:catalog-tree", frozenset({R.COUNTY_ADMIN, R.COMMAND_OPERATOR}), icon="tags"),
        Entry(_("Community sites"), "cms-sites",
              frozenset({R.COUNTY_ADMIN, R.TOWNSHIP_OPERATOR, R.COMMUNITY_OPERATOR}), icon="site"),
        Entry(_("Plugins"), "plugins:plugin-list", frozenset({R.COUNTY_ADMIN}), icon="plug"),
        Entry(_("API tokens"), "api-tokens", frozenset({R.COUNTY_ADMIN}), icon="plug"),
    ]),
]


def console_navigation(staff, path: str, plugin_links: list) -> list[Section]:
    """The sections this member sees, with the entry for ``path`` marked active (the
    longest matching prefix wins, so /cases/12/ lights "Cases", not "Overview")."""
    sections = []
    for label, entries in SECTIONS:
        links = []
        for entry in entries:
            if staff.role not in entry.roles:
                continue
            if entry.levels and getattr(connection.tenant, "level", None) not in entry.levels:
                continue
            try:
                links.append(Link(str(entry.label), reverse(entry.url_name), icon=entry.icon))
            except NoReverseMatch:  # a page not mounted in this installation
                continue
        if links:
            sections.append(Section(str(label), links))
    if plugin_links:
        sections.append(Section(str(pgettext_lazy("navigation", "Modules")),
                                [Link(str(item.label), item.url, icon="plug") for item in plugin_links]))
    _mark_active(sections, path)
    return sections


def _mark_active(sections: list[Section], path: str) -> None:
    best = None
    for section in sections:
        for link in section.links:
            if path == link.url or (link.url != "/" and path.startswith(link.url)):
                if best is None or len(link.url) > len(best.url):
                    best = link
    if best is not None:
        best.active = True


def breadcrumbs(sections: list[Section]) -> list[Link]:
    """Overview › the active section's entry (the page adds its own title after it)."""
    trail = [Link(str(_("Overview")), "/")]
    for section in sections:
        for link in section.links:
            if link.active and link.url != "/":
                trail.append(link)
    return trail
