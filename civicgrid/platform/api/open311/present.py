"""Our categories and cases in the spec's fields and order.

A case is ``open`` while it waits for someone (our open statuses) and ``closed``
once it is resolved or will not be acted on here: handled (a handled case only
goes on to rating and closing), closed, rejected, merged into an earlier report,
or transferred to another county. Names follow the client's language
(``Accept-Language``); Chinese is the default.
"""

from __future__ import annotations

import re

from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from civicgrid.platform.cases.models import OPEN_STATUSES, Case, Category, Status

# POST keeps the client's media_url as the last line of the description (a case has
# no field of its own for it) and GET gives it back as the spec's media_url.
MEDIA_LINE = "\n\nmedia_url: "
_MEDIA = re.compile(r"\n\nmedia_url: (\S+)\Z")


def _english() -> bool:
    return (get_language() or "").startswith("en")


def category_name(category: Category | None) -> str | None:
    if category is None:
        return None
    return category.name_en if _english() and category.name_en else category.name


def _other_name(category: Category | None) -> str:
    if category is None:
        return ""
    return category.name if _english() else category.name_en


def service_row(category: Category) -> dict:
    keywords = [name for name in (_other_name(category), _other_name(category.parent)) if name]
    return {
        "service_code": category.code,
        "service_name": category_name(category),
        "description": category.description,
        "metadata": False,  # no extra form fields: services/{code} answers with no attributes
        "type": "realtime",  # the service_request_id comes back at once
        "keywords": ", ".join(keywords),
        "group": category_name(category.parent),
    }


def service_definition(category: Category) -> dict:
    return {"service_code": category.code, "attributes": []}


def w3c(moment) -> str | None:
    if moment is None:
        return None
    return timezone.localtime(moment).isoformat(timespec="seconds")


def is_closed(case: Case) -> bool:
    return case.status not in OPEN_STATUSES


def status_notes(case: Case) -> str | None:
    if case.status == Status.REJECTED:
        return getattr(case, "rejection_reason", None) or None
    if case.status == Status.MERGED:
        return _("Duplicate request: it follows an earlier report about the same problem and closes with it.")
    if case.status == Status.TRANSFERRED:
        return _("Transferred to another county, which handles it from now on.")
    if case.status in (Status.HANDLED, Status.CLOSED):
        return case.result or None
    return None


def service_notice(case: Case) -> str | None:
    if is_closed(case):
        return None
    if case.handle_due:
        return _("The responsible department is expected to deal with it by %(deadline)s.") % {
            "deadline": _local(case.handle_due)}
    return _("The command centre will accept or decline it by %(deadline)s.") % {"deadline": _local(case.accept_due)}


def _local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def split_media(description: str) -> tuple[str, str | None]:
    found = _MEDIA.search(description or "")
    if found is None:
        return description, None
    return description[:found.start()], found.group(1)


def request_row(case: Case) -> dict:
    """Never the reporter's name, phone or e-mail: GET is public."""
    description, media_url = split_media(case.description)
    closed = is_closed(case)
    updated = (case.closed_at or case.handled_at or case.updated_at) if closed else case.updated_at
    return {
        "service_request_id": case.number,
        "status": "closed" if closed else "open",
        "status_notes": status_notes(case),
        "service_name": category_name(case.category),
        "service_code": case.category.code,
        "description": description,
        "agency_responsible": case.department.name if case.department_id else None,
        "service_notice": service_notice(case),
        "requested_datetime": w3c(case.reported_at),
        "updated_datetime": w3c(updated),
        "expected_datetime": w3c(case.handle_due or case.accept_due),
        "address": case.address or None,
        "address_id": None,
        "zipcode": None,
        "lat": case.latitude,
        "long": case.longitude,
        "media_url": media_url,
    }
