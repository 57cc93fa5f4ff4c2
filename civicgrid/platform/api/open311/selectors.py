"""What Open311 clients may read, in the spec's terms.

Only requests that came in through Open311 are published: grid workers' and
hotline reports (neighbour disputes, hazards at someone's home) were never
meant for the public, and GET needs no key. Nothing about the reporter is
published, whoever asks.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from civicgrid.platform.cases.models import OPEN_STATUSES, Case, CaseEvent, Category, Source
from civicgrid.platform.cases.selectors import leaf_categories

from .errors import Open311Error

MAX_REQUESTS = 1000  # the spec's default query limit
MAX_SPAN = timedelta(days=90)  # "may not span more than 90 days"; also the default window


def services() -> QuerySet[Category]:
    return leaf_categories().select_related("parent").order_by("parent__sort_order", "sort_order", "code")


def service(code: str) -> Category:
    found = services().filter(code=code).first()
    if found is None:
        raise Open311Error(404, _("There is no service with the code %(code)s.") % {"code": code})
    return found


def published_requests() -> QuerySet[Case]:
    latest_rejection = (CaseEvent.objects.filter(case=OuterRef("pk"), action="reject")
                        .order_by("-created_at", "-id").values("comment")[:1])
    return (Case.objects.filter(source=Source.OPEN311).select_related("category", "department")
            .annotate(rejection_reason=Subquery(latest_rejection)))


def published_request(service_request_id: str) -> Case:
    found = published_requests().filter(number=service_request_id).first()
    if found is None:
        raise Open311Error(404, _("There is no service request %(id)s.") % {"id": service_request_id})
    return found


def request_for_token(token: str) -> Case:
    try:
        found = published_requests().filter(token=uuid.UUID(token)).first()
    except ValueError:  # not a UUID: no such token either
        found = None
    if found is None:
        raise Open311Error(404, _("There is no service request for the token %(token)s.") % {"token": token})
    return found


def search_requests(params) -> list[Case]:
    """GET requests: the spec's filters, newest first, at most MAX_REQUESTS."""
    cases = published_requests()
    ids = _listed(params, "service_request_id")
    if ids:  # "This overrides all other arguments."
        return list(cases.filter(number__in=ids).order_by("-reported_at")[:MAX_REQUESTS])
    codes = _listed(params, "service_code")
    if codes:
        cases = cases.filter(category__code__in=codes)
    statuses = set(_listed(params, "status"))
    if statuses - {"open", "closed"}:
        raise Open311Error(400, _("status is open, closed or both (comma separated)."))
    if statuses == {"open"}:
        cases = cases.filter(status__in=OPEN_STATUSES)
    elif statuses == {"closed"}:
        cases = cases.exclude(status__in=OPEN_STATUSES)
    start, end = _window(_moment(params, "start_date"), _moment(params, "end_date"))
    cases = cases.filter(reported_at__gte=start, reported_at__lte=end)
    return list(cases.order_by("-reported_at")[:MAX_REQUESTS])


def _listed(params, name: str) -> list[str]:
    """A parameter that "can be declared multiple times, comma delimited"."""
    return [part.strip() for value in params.getlist(name) for part in value.split(",") if part.strip()]


def _moment(params, name: str) -> datetime | None:
    text = (params.get(name) or "").strip()
    if not text:
        return None  # "Optional" means empty and absent are the same
    try:
        moment = parse_datetime(text.replace(" ", "+"))  # an unescaped "+" in a query string arrives as a space
    except ValueError:
        moment = None
    if moment is None:
        day = _day(text)
        if day is None:
            raise Open311Error(400, _("%(name)s must be a W3C date and time, e.g. 2010-01-01T00:00:00Z.")
                               % {"name": name})
        moment = datetime.combine(day, datetime.min.time())
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def _day(text: str):
    try:
        return parse_date(text)
    except ValueError:
        return None


def _window(start: datetime | None, end: datetime | None) -> tuple[datetime, datetime]:
    if start is None and end is None:
        end = timezone.now()
    if start is None:
        start = end - MAX_SPAN
    if end is None:
        end = start + MAX_SPAN
    if start > end:
        raise Open311Error(400, _("start_date must come before end_date."))
    if end - start > MAX_SPAN:
        raise Open311Error(400, _("start_date and end_date may not span more than 90 days."))
    return start, end
