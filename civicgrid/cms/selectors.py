"""What the community sites read: a home page's lists, service search, the grid map,
and a case as a resident may see it."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db.models import Count
from django.utils.translation import gettext_lazy as _l
from wagtail.models import Site

from civicgrid.platform.cases.models import Case, CaseEvent, Category, Status
from civicgrid.platform.org.models import OrgUnit
from civicgrid.platform.registry import protection

from .models import ArticlePage, CommunitySite, ServiceGuidePage
from .words import query_text

logger = logging.getLogger(__name__)
PAGE_SIZE = 20
HOME_NOTICES = 5
HOME_SERVICES = 6


def paginated(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def _use_key(page_id: int) -> str:
    return f"cms:service-use:{page_id}"


def count_service_use(page) -> None:
    """A resident opened this service guide (counted in Redis; the home page lists the
    most used). Redis being down loses a count, never the page."""
    try:
        if not cache.add(_use_key(page.pk), 1, timeout=None):
            cache.incr(_use_key(page.pk))
    except Exception:
        logger.warning("service use of page %s not counted: cache unavailable", page.pk)


def home_context(home) -> dict:
    notices = list(ArticlePage.objects.descendant_of(home).live()
                   .order_by("-date", "-first_published_at").only("title", "date", "url_path", "path", "depth")
                   [:HOME_NOTICES])
    services = list(ServiceGuidePage.objects.descendant_of(home).live()
                    .only("title", "url_path", "path", "depth", "department"))
    try:
        uses = cache.get_many([_use_key(page.pk) for page in services])
    except Exception:
        uses = {}
    services.sort(key=lambda page: (-int(uses.get(_use_key(page.pk)) or 0), page.title))
    links = {page.specific_class.__name__ if page.specific_class else "": page
             for page in home.get_children().live().only("title", "url_path", "path", "depth", "content_type")}
    return {"notices": notices, "services": services[:HOME_SERVICES], "links": links}


def search_services(index_page, query: str):
    pages = ServiceGuidePage.objects.child_of(index_page).live()
    if not query:
        return pages.order_by("title")
    words = query_text(query)
    if not words:
        return pages.none()
    return pages.search(words, operator="and", order_by_relevance=True)


def community_for_request(request) -> CommunitySite | None:
    """The community site the request's host serves (Wagtail's site for the host), once per request."""
    if not hasattr(request, "_community_site"):
        site = Site.find_for_request(request)
        request._community_site = (CommunitySite.objects.select_related("site", "community").filter(site=site).first()
                                   if site is not None else None)
    return request._community_site


def on_community_host(request) -> bool:
    return getattr(request.tenant, "domain_serves", "") == "community_site"


def cms_member(user):
    """The user's membership of this tenant if it is in a CMS role (who may work on the
    sites), else None. Wagtail's permissions then decide what they may touch."""
    from civicgrid.platform.accounts.selectors import staff_profile_for

    from .roles import CMS_ROLES

    profile = staff_profile_for(user, site_editors=True)
    return profile if profile is not None and profile.role in CMS_ROLES else None


def community_grids(site: CommunitySite) -> list[dict]:
    """The community's grids as GeoJSON features (names and shapes only) for the map."""
    grids = OrgUnit.objects.filter(path__startswith=site.community.path, level=OrgUnit.Level.GRID,
                                   boundary__isnull=False).order_by("code")
    return [{"type": "Feature", "properties": {"name": grid.name}, "geometry": grid.boundary} for grid in grids]


def resident_categories() -> list[tuple[str, list[tuple[str, str]]]]:
    """Categories as a resident picks them: groups, and in each the leaves in plain words."""
    leaves = Category.objects.filter(is_active=True, parent__isnull=False, parent__is_active=True) \
        .select_related("parent").order_by("parent__sort_order", "parent__code", "sort_order", "code")
    groups: dict[str, list[tuple[str, str]]] = {}
    for leaf in leaves:
        label = f"{leaf.name} — {leaf.description}" if leaf.description else leaf.name
        groups.setdefault(leaf.parent.name, []).append((leaf.code, label))
    return list(groups.items())


# --- tracking ------------------------------------------------------------------------------

def track_key(number: str, phone4: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), f"track:{number}:{phone4}".encode(), hashlib.sha256).hexdigest()


def tracked_case(site: CommunitySite, number: str, phone4: str) -> Case | None:
    """The case with this tracking number whose reporter's phone ends in ``phone4``, if
    it was reported on this site or lies in this community; else None (the same for
    a wrong number, a wrong phone and another community's case)."""
    number, phone4 = (number or "").strip().upper(), (phone4 or "").strip()
    if not number or not re.fullmatch(r"\d{4}", phone4):
        return None
    case = (Case.objects.select_related("category", "department", "resident_report")
            .filter(number=number).first())
    if case is None:
        return None
    report = getattr(case, "resident_report", None)
    if report is not None:
        matches = report.site_id == site.site_id and hmac.compare_digest(report.track_key, track_key(number, phone4))
    else:
        phone = protection.decrypt(bytes(case.reporter_phone_encrypted)) if case.reporter_phone_encrypted else ""
        matches = (bool(phone) and phone.endswith(phone4) and case.org_path.startswith(site.community.path))
    return case if matches else None


@dataclass
class PublicStep:
    at: datetime
    label: str
    department: str = ""


# The steps a resident is shown; every other action (internal notes, reminders, supervision)
# stays inside. Departments are named (organisations, not people); staff never are.
PUBLIC_STEPS = {
    "report": _l("Report received"),
    "accept": _l("Accepted by the command centre"),
    "reject": _l("Not taken up as a case"),
    "dispatch": _l("Passed to the department that handles it"),
    "transfer": _l("Passed to another department"),
    "start": _l("Work started"),
    "return": _l("Sent back to the command centre for another department"),
    "escalate": _l("Raised to the level above"),
    "handle": _l("Handled"),
    "reopen": _l("Reopened"),
    "rate": _l("Rated by the reporter"),
    "close": _l("Closed"),
    "link_duplicate": _l("Joined with a report of the same problem"),
    "transfer_tenant": _l("Passed to another county"),
}
NAMES_DEPARTMENT = ("dispatch", "transfer")


def public_timeline(case: Case) -> list[PublicStep]:
    from civicgrid.platform.org.models import Department

    events = list(CaseEvent.objects.filter(case=case, action__in=PUBLIC_STEPS).order_by("created_at", "pk")
                  .only("action", "created_at", "data"))
    names = dict(Department.objects.filter(pk__in={e.data.get("department") for e in events
                                                   if isinstance(e.data.get("department"), int)})
                 .values_list("pk", "name"))
    return [PublicStep(at=e.created_at, label=str(PUBLIC_STEPS[e.action]),
                       department=names.get(e.data.get("department"), "") if e.action in NAMES_DEPARTMENT else "")
            for e in events]


_PHONE = re.compile(r"(?<!\d)(1\d{2})\d{4}(\d{4})(?!\d)")
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{8}(\d{3}[\dXx])(?![0-9A-Za-z])")


def masked_text(text: str) -> str:
    """A resident's own words shown back on a public page: phone and ID numbers masked."""
    text = _ID_NUMBER.sub(lambda m: f"{m.group(1)}********{m.group(2)}", text or "")
    return _PHONE.sub(lambda m: f"{m.group(1)}****{m.group(2)}", text)


def may_rate(case: Case) -> bool:
    return case.status == Status.HANDLED and case.rating is None


def consultation_results(consultation, options) -> tuple[list[tuple], int]:
    """(option, votes, per cent) for each option, and the total."""
    from .models import ConsultationVote

    counts = dict(ConsultationVote.objects.filter(consultation=consultation).values("option").order_by()
                  .annotate(n=Count("pk")).values_list("option", "n"))
    total = sum(counts.values())
    return [(option, counts.get(option.pk, 0), round(100 * counts.get(option.pk, 0) / total) if total else 0)
            for option in options], total


def has_voted(consultation, phone: str | None) -> bool:
    from .models import ConsultationVote

    return bool(phone) and ConsultationVote.objects.filter(
        consultation=consultation, phone_index=protection.blind_index(phone, "phone")).exists()
