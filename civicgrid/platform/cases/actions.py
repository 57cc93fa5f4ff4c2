"""Every change to a case, one function per action.

Each action takes the acting staff member explicitly, locks the case row,
checks the expected version (a client acting on an old view gets a conflict),
the transition, the role and the scope (what the actor may not see or do is
not found), then changes the case, appends to its timeline, writes audit,
stores notifications and emits an outbox event — all in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from civicgrid.platform.accounts.staff.models import StaffProfile, StaffRole
from civicgrid.platform.audit.actions import record
from civicgrid.platform.notifications.outbox import emit
from civicgrid.platform.org import geo
from civicgrid.platform.org.models import Department, OrgUnit
from civicgrid.platform.registry import protection
from civicgrid.platform.registry.identity import normalise_phone

from . import attachments, deadlines, notify, rules
from .models import Case, CaseEvent, Category, ExtensionRequest, Level, Source, Status, Supervision, Urgency
from .numbers import next_number
from .selectors import case_for, cases_for, leaf_categories, reported_with_key

REOPEN_DAYS = rules.REOPEN_DAYS
# The channel a role's own reports come through, when they name none.
OWN_CHANNEL = {StaffRole.GRID_WORKER: Source.GRID_WORKER, StaffRole.DEPARTMENT_HANDLER: Source.DEPARTMENT}


class CaseConflict(Exception):
    """Someone else moved the case first (or it is not in a state for this action)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# --- reporting ----------------------------------------------------------------------


def report_case(*, staff: StaffProfile | None, category: Category | str, title: str, description: str = "",
                source: str = "", latitude: float | None = None, longitude: float | None = None, address: str = "",
                urgency: str = "", reporter_name: str = "", reporter_phone: str = "", reporter_email: str = "",
                persons: Iterable = (), places: Iterable = (), actor=None, client_key: str = "",
                photos: Iterable = ()) -> Case:
    """A new case. ``staff`` is None for reports from outside the console (resident
    site, Open311, hotline integrations); ``actor`` is then the user, if any.
    Without a ``source``, a grid worker's or a department's own channel is meant;
    anyone else must say where the report came from.

    ``client_key`` is the reporter's own key for this report (a phone resending from its
    offline queue): a key this reporter sent before returns that case, marked ``replayed``,
    and creates nothing.

    ``photos`` (uploaded files) are checked and re-encoded before anything is stored and
    stored last, with the report: a refused photo refuses the report, and no case loses
    its photos. Every entry point (console, API, the phone app, community sites) passes
    them here."""
    if staff is not None and staff.role not in rules.REPORTER_ROLES:
        raise Http404
    user = staff.user if staff is not None else actor
    client_key = (client_key or "").strip()
    if client_key:
        if getattr(user, "pk", None) is None:
            raise ValueError("a client key needs a known reporter")
        earlier = _reported_with_key(user, client_key)
        if earlier is not None:
            return earlier
    cleaned = attachments.clean_all(photos) if photos else []
    category = _leaf(category)
    errors = {}
    title = (title or "").strip()
    if not title:
        errors["title"] = _("Give the case a title.")
    source = source or (OWN_CHANNEL.get(staff.role, "") if staff is not None else "")
    if not source:
        errors["source"] = _("Say where the report came from.")
    elif source not in Source.values:
        errors["source"] = _("Unknown source %(source)s.") % {"source": source}
    urgency = urgency or category.urgency
    if urgency not in Urgency.values:
        errors["urgency"] = _("Urgency must be one of %(values)s.") % {"values": ", ".join(Urgency.values)}
    grid = None
    if (latitude is None) != (longitude is None):
        errors["location"] = _("Give both latitude and longitude, or neither.")
    elif latitude is not None:
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            errors["location"] = _("The location is not a valid latitude and longitude.")
        else:
            grid = geo.locate_grid_ref(longitude, latitude)
    if latitude is None and not address.strip():
        errors["location"] = _("Give the location: a point on the map or an address.")
    if len(client_key) > 64:
        errors["client_key"] = _("The report's key is longer than 64 characters.")
    phone_index, phone_encrypted = "", None
    if reporter_phone:
        try:
            phone = normalise_phone(reporter_phone)
            phone_index, phone_encrypted = protection.blind_index(phone, "phone"), protection.encrypt(phone)
        except ValidationError as exc:
            errors["reporter_phone"] = exc.messages[0]
    if errors:
        raise ValidationError(errors)
    if staff is not None and staff.role == StaffRole.GRID_WORKER and grid is None:
        grid = staff.scope_org_unit  # reported by hand in their own grid

    now = timezone.now()
    calendar = deadlines.tenant_calendar()
    # Numbered before the transaction: the day's counter row is locked only for its own
    # statement, not for the whole report, so reports do not queue behind each other.
    number = next_number(now)
    # No savepoint (but for a keyed report): nothing here is retried, so a failure undoes the
    # caller's whole transaction.
    with transaction.atomic(savepoint=False):
        try:
            # A savepoint for a keyed report alone: the same key sent again while this one was
            # being stored waits on the unique constraint, fails, and answers with the case that won.
            with transaction.atomic(savepoint=bool(client_key)):
                case = Case.objects.create(
                    number=number, title=title[:200], description=description, category=category,
                    source=source, urgency=urgency, level=_initial_level(source, grid), reporter=user,
                    reporter_name=reporter_name[:100], reporter_phone_encrypted=phone_encrypted,
                    reporter_phone_index=phone_index, reporter_email=reporter_email, latitude=latitude,
                    longitude=longitude, address=address[:300], grid=grid, org_path=grid.path if grid else "",
                    reported_at=now, accept_due=deadlines.due(category, "accept", urgency, now, calendar),
                    accept_warn_at=deadlines.warn_at(category, "accept", urgency, now, calendar),
                    client_key=client_key,
                )
        except IntegrityError:
            earlier = _reported_with_key(user, client_key) if client_key else None
            if earlier is None:
                raise
            return earlier
        if persons:
            case.persons.set(persons)
        if places:
            case.places.set(places)
        _after(case, action="report", from_status="", actor=user, comment="", data={"source": source},
               with_event=(lambda event: attachments.store_clean(case=case, files=cleaned, actor=user, event=event))
               if cleaned else None)
    return case


def _reported_with_key(user, client_key: str) -> Case | None:
    earlier = reported_with_key(user, client_key)
    if earlier is not None:
        earlier.replayed = True
    return earlier


def title_from(description: str, fallback: str, length: int = 60) -> str:
    """A title for a report that came without one (a resident, an Open311 client): the
    description's first line, shortened, else ``fallback`` (the category's name)."""
    first_line = description.strip().splitlines()[0].strip() if description and description.strip() else ""
    return first_line[:length] or fallback


def _leaf(category: Category | str) -> Category:
    if isinstance(category, Category):
        code = category.code
    else:
        code = str(category or "")
    found = leaf_categories().filter(code=code).first()
    if found is None:
        raise ValidationError({"category": _("There is no category with the code %(code)s.") % {"code": code}})
    return found


def _initial_level(source: str, grid: OrgUnit | None) -> str:
    """Grid workers' reports start in their community (most are settled there);
    everything else arrives at the county's command centre."""
    return Level.COMMUNITY if source == Source.GRID_WORKER and grid is not None else Level.COUNTY


# --- the transition machinery ---------------------------------------------------------


def _transition(*, staff: StaffProfile | None, case_id, action: str, version: int | None = None,
                comment: str = "", change: Callable[[Case], dict | None] | None = None,
                with_event: Callable[[CaseEvent], object] | None = None) -> Case:
    """Lock, check, change, record. ``staff`` None is the platform itself (the
    sweep, a reporter's link): no scope and no role, only the transition."""
    with transaction.atomic():
        case = _locked(staff, case_id)
        if staff is not None and not rules.may_act(staff, action, case):
            raise Http404
        if version is not None and case.version != int(version):
            raise CaseConflict(_("Someone else changed this case a moment ago (it is now %(status)s). "
                                 "Reload it and try again.") % {"status": case.get_status_display()})
        if not rules.can_move(action, case.status):
            raise CaseConflict(_("This case is %(status)s: it cannot be %(action)s now.")
                               % {"status": case.get_status_display(), "action": action_label(action)})
        from_status = case.status
        case.status = rules.target_status(action, case.status)
        data = (change(case) if change else None) or {}
        case.version += 1
        case.save()
        _after(case, action=action, from_status=from_status, actor=staff.user if staff else None, comment=comment,
               data=data, with_event=with_event)
    return case


def _locked(staff: StaffProfile | None, case_id) -> Case:
    visible = Case.objects.all() if staff is None else cases_for(staff)
    try:
        pk = visible.values_list("pk", flat=True).get(pk=case_id)
    except (Case.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
    return Case.objects.select_for_update(of=("self",)).select_related("category", "department").get(pk=pk)


def _after(case: Case, *, action: str, from_status: str, actor, comment: str, data: dict,
           with_event: Callable[[CaseEvent], object] | None = None) -> CaseEvent:
    """The timeline entry, the notifications, the outbox event and the audit row of a change.
    ``with_event(event)`` runs before the audit row (a report's photos are stored there)."""
    event = CaseEvent.objects.create(case=case, action=action, from_status=from_status, to_status=case.status,
                                     actor=actor, actor_label=getattr(actor, "username", "") or "system",
                                     comment=comment, data=data)
    if with_event is not None:
        with_event(event)
    notified = notify.store(case, action, actor=actor)
    # Where the case now is (department, area) travels with the event: open lists are nudged by it.
    emit(f"case.{action}", case_id=case.pk, number=case.number, status=case.status, version=case.version,
         schema=connection.schema_name, notifications=notified, holding_department=case.department_id,
         department_notified=bool(notified) and notify.tells_department(action, case), org_path=case.org_path,
         **data)
    # Last: the audit row holds the tenant's chain lock until the commit (every audited change in the
    # county waits for it), so nothing slow may follow it, least of all storing photos.
    record(action=f"case.{action}", actor=actor, target=case, number=case.number, status=case.status, **data)
    return event


ACTION_LABELS = {
    "report": _l("reported"),
    "accept": _l("accepted"),
    "reject": _l("rejected"),
    "dispatch": _l("dispatched"),
    "start": _l("started"),
    "return": _l("returned"),
    "request_extension": _l("given an extension request"),
    "decide_extension": _l("given an extension decision"),
    "handle": _l("handled"),
    "escalate": _l("escalated"),
    "transfer": _l("transferred"),
    "transfer_tenant": _l("transferred to another county"),
    "rate": _l("rated"),
    "close": _l("closed"),
    "reopen": _l("reopened"),
    "supervise": _l("supervised"),
    "link_duplicate": _l("linked as a duplicate"),
    "overdue": _l("past its deadline"),
    "raise_urgency": _l("raised in urgency"),
    "verify": _l("checked on the ground"),
}


def action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, action))


def _required(text: str, field: str, message: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationError({field: message})
    return text


# --- the workflow -----------------------------------------------------------------------


def accept_case(*, staff: StaffProfile, case_id, version: int | None = None, comment: str = "") -> Case:
    def change(case):
        case.accepted_at = timezone.now()

    return _transition(staff=staff, case_id=case_id, action="accept", version=version, comment=comment,
                       change=change)


def reject_case(*, staff: StaffProfile, case_id, reason: str, version: int | None = None) -> Case:
    reason = _required(reason, "reason", _("Say why this is not a case."))

    def change(case):
        case.closed_at = timezone.now()

    return _transition(staff=staff, case_id=case_id, action="reject", version=version, comment=reason,
                       change=change)


def dispatch_case(*, staff: StaffProfile, case_id, department: Department | str | None = None,
                  version: int | None = None, comment: str = "") -> Case:
    """To ``department``, or to the routing rule's suggestion when none is named."""

    def change(case):
        target = _department(department) if department else rules_suggestion(case)
        if target is None:
            raise ValidationError({"department": _("No routing rule covers this case: choose a department.")})
        now = timezone.now()
        case.department = target
        case.dispatched_at = now
        if case.accepted_at is None:
            case.accepted_at = now
        _set_handle_deadline(case, now)
        return {"department": target.pk, "department_code": target.code}

    return _transition(staff=staff, case_id=case_id, action="dispatch", version=version, comment=comment,
                       change=change)


def _set_handle_deadline(case: Case, start) -> None:
    calendar = deadlines.tenant_calendar()
    case.handle_due = deadlines.due(case.category, "handle", case.urgency, start, calendar)
    case.handle_warn_at = deadlines.warn_at(case.category, "handle", case.urgency, start, calendar)
    case.reminded_at = None


def rules_suggestion(case: Case):
    from .selectors import suggested_department

    return suggested_department(case.category, case.grid)


def _department(department: Department | str) -> Department:
    code = department.code if isinstance(department, Department) else str(department)
    found = Department.objects.filter(code=code, is_active=True).first()
    if found is None:
        raise ValidationError({"department": _("There is no active department with the code %(code)s.")
                               % {"code": code}})
    return found


def start_case(*, staff: StaffProfile, case_id, version: int | None = None, comment: str = "") -> Case:
    return _transition(staff=staff, case_id=case_id, action="start", version=version, comment=comment)


def return_case(*, staff: StaffProfile, case_id, reason: str, version: int | None = None) -> Case:
    """The department hands the case back to its dispatcher: not theirs, or not possible."""
    reason = _required(reason, "reason", _("Say why the case goes back."))

    def change(case):
        data = {"department": case.department_id}
        case.department = None
        case.handle_due = case.handle_warn_at = None
        return data

    return _transition(staff=staff, case_id=case_id, action="return", version=version, comment=reason,
                       change=change)


def request_extension(*, staff: StaffProfile, case_id, hours, reason: str, version: int | None = None) -> Case:
    reason = _required(reason, "reason", _("Say why more time is needed."))
    hours = _hours(hours)

    def change(case):
        if case.extensions.filter(granted__isnull=True).exists():
            raise CaseConflict(_("An extension request for this case is already waiting for a decision."))
        request = ExtensionRequest.objects.create(case=case, hours=hours, reason=reason, requested_by=staff.user)
        return {"extension": request.pk, "hours": str(hours)}

    return _transition(staff=staff, case_id=case_id, action="request_extension", version=version, comment=reason,
                       change=change)


def _hours(value) -> Decimal:
    try:
        hours = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError({"hours": _("Give the extra time in working hours.")}) from exc
    if not (Decimal("0.5") <= hours <= Decimal("400")):
        raise ValidationError({"hours": _("An extension is between 0.5 and 400 working hours.")})
    return hours


def decide_extension(*, staff: StaffProfile, case_id, grant: bool, version: int | None = None,
                     comment: str = "") -> Case:
    def change(case):
        request = case.extensions.filter(granted__isnull=True).first()
        if request is None:
            raise CaseConflict(_("No extension request is waiting on this case."))
        request.granted, request.decided_by, request.decided_at = bool(grant), staff.user, timezone.now()
        request.save()
        if grant and case.handle_due:
            calendar = deadlines.tenant_calendar()
            case.handle_due = deadlines.after(case.handle_due, request.hours, case.urgency, calendar)
            if case.urgency == Urgency.CRITICAL:
                total = Decimal(str((case.handle_due - case.dispatched_at).total_seconds() / 3600))
            else:
                total = Decimal(str(calendar.working_hours_between(case.dispatched_at, case.handle_due)))
            case.handle_warn_at = deadlines.after(case.dispatched_at, total * deadlines.YELLOW_SHARE, case.urgency,
                                                  calendar)
            case.reminded_at = None  # a new deadline earns a new reminder
        return {"extension": request.pk, "granted": bool(grant)}

    return _transition(staff=staff, case_id=case_id, action="decide_extension", version=version, comment=comment,
                       change=change)


def handle_case(*, staff: StaffProfile, case_id, result: str, version: int | None = None,
                photos: Iterable = ()) -> Case:
    """``photos`` (of the result) are checked before anything changes and stored on the
    handling step of the timeline, in the same transaction."""
    result = _required(result, "result", _("Describe what was done."))
    cleaned = attachments.clean_all(photos) if photos else []

    def change(case):
        case.result = result
        case.handled_at = timezone.now()

    def store(event):
        attachments.store_clean(case=event.case, files=cleaned, actor=staff.user, event=event)

    return _transition(staff=staff, case_id=case_id, action="handle", version=version, comment=result,
                       change=change, with_event=store if cleaned else None)


def escalate_case(*, staff: StaffProfile | None, case_id, reason: str, version: int | None = None,
                  automatic: bool = False) -> Case:
    """One level up: community → township → county. ``staff`` is None for the sweep."""
    reason = _required(reason, "reason", _("Say why the case goes up a level."))

    def change(case):
        higher = rules.NEXT_LEVEL.get(case.level)
        if higher is None:
            raise CaseConflict(_("This case is already held by the county."))
        data = {"from_level": case.level, "to_level": higher, "automatic": automatic,
                "department": case.department_id}
        case.level, case.department, case.handle_due, case.handle_warn_at = higher, None, None, None
        return data

    return _transition(staff=staff, case_id=case_id, action="escalate", version=version, comment=reason,
                       change=change)


def transfer_case(*, staff: StaffProfile, case_id, department: Department | str, reason: str,
                  version: int | None = None) -> Case:
    """To another department of this county (the first dispatcher stays responsible)."""
    reason = _required(reason, "reason", _("Say why the case moves to another department."))
    target = _department(department)

    def change(case):
        if case.department_id == target.pk:
            raise ValidationError({"department": _("The case is already with this department.")})
        data = {"from_department": case.department_id, "department": target.pk, "department_code": target.code}
        now = timezone.now()
        case.department, case.dispatched_at = target, now
        _set_handle_deadline(case, now)
        return data

    return _transition(staff=staff, case_id=case_id, action="transfer", version=version, comment=reason,
                       change=change)


def rate_case(*, staff: StaffProfile | None, case_id, rating: int, comment: str = "",
              version: int | None = None, token=None) -> Case:
    """A rating 1–5: by an operator after a revisit call, or by the reporter through
    their link (``token``, with ``staff`` None)."""
    try:
        rating = int(rating)
    except (TypeError, ValueError):
        rating = 0
    if not 1 <= rating <= 5:
        raise ValidationError({"rating": _("A rating is a whole number from 1 to 5.")})

    def change(case):
        if case.rating is not None:  # one revisit, one rating
            raise CaseConflict(_("This case is already rated."))
        case.rating, case.rating_comment = rating, comment[:500]
        return {"rating": rating, "by_reporter": staff is None}

    if staff is None:  # the reporter's link names the case by its token, nothing else
        try:
            known = Case.objects.filter(pk=case_id, token=token).exists()
        except (ValidationError, ValueError, TypeError):
            known = False
        if not known:
            raise Http404
    return _transition(staff=staff, case_id=case_id, action="rate", version=version, comment=comment,
                       change=change)


def close_case(*, staff: StaffProfile, case_id, version: int | None = None, comment: str = "") -> Case:
    def change(case):
        case.closed_at = timezone.now()
        closed = _close_duplicates(case)
        return {"duplicates_closed": closed} if closed else None

    return _transition(staff=staff, case_id=case_id, action="close", version=version, comment=comment,
                       change=change)


def _close_duplicates(case: Case) -> list[int]:
    """Reports linked to this case close with it; each reporter hears the outcome."""
    closed = []
    for duplicate in case.duplicates.select_for_update().filter(status=Status.MERGED):
        from_status = duplicate.status
        duplicate.status, duplicate.closed_at = Status.CLOSED, timezone.now()
        duplicate.result = case.result
        duplicate.version += 1
        duplicate.save()
        _after(duplicate, action="close", from_status=from_status, actor=None, comment="",
               data={"with_case": case.number})
        closed.append(duplicate.pk)
    return closed


def reopen_case(*, staff: StaffProfile, case_id, reason: str, version: int | None = None) -> Case:
    reason = _required(reason, "reason", _("Say why the case is reopened."))

    def change(case):
        if case.closed_at and (timezone.now() - case.closed_at).days > REOPEN_DAYS:
            raise CaseConflict(_("A case can be reopened within %(days)d days of closing.") % {"days": REOPEN_DAYS})
        data = {"department": case.department_id}
        case.closed_at = case.handled_at = case.handle_due = case.handle_warn_at = None
        case.department, case.rating, case.result = None, None, ""
        return data

    return _transition(staff=staff, case_id=case_id, action="reopen", version=version, comment=reason,
                       change=change)


def supervise_case(*, staff: StaffProfile, case_id, order: str, due_at, card: str = "",
                   version: int | None = None) -> Case:
    """A leader's order (督办) with its own deadline; a yellow or red card counts in assessment."""
    order = _required(order, "order", _("Write the order."))
    if card not in Supervision.Card.values:
        raise ValidationError({"card": _("A card is yellow, red or none.")})
    if due_at is None or due_at <= timezone.now():
        raise ValidationError({"due_at": _("The order's deadline must be in the future.")})

    def change(case):
        item = Supervision.objects.create(case=case, order=order, card=card, due_at=due_at,
                                          department=case.department, issued_by=staff.user)
        return {"supervision": item.pk, "card": card, "department": case.department_id}

    return _transition(staff=staff, case_id=case_id, action="supervise", version=version, comment=order,
                       change=change)


def link_duplicate(*, staff: StaffProfile, case_id, original_id, version: int | None = None) -> Case:
    """This report is about the same problem as ``original_id``: it follows that case
    and its reporter hears the outcome."""
    original = case_for(staff, original_id)
    if not original.is_open:
        raise ValidationError({"original": _("The original case is already finished.")})

    def change(case):
        if case.pk == original.pk:
            raise ValidationError({"original": _("A case cannot duplicate itself.")})
        case.duplicate_of = original
        return {"original": original.pk, "original_number": original.number}

    return _transition(staff=staff, case_id=case_id, action="link_duplicate", version=version,
                       comment=original.number, change=change)




# One level up: a normal case becomes urgent, an urgent one critical.
HIGHER_URGENCY = {Urgency.NORMAL: Urgency.URGENT, Urgency.URGENT: Urgency.CRITICAL}
# Until it is finished a case can be raised (handled: it still waits for its closing visit).
RAISABLE = (Status.REPORTED, Status.ACCEPTED, Status.DISPATCHED, Status.IN_PROGRESS, Status.RETURNED,
            Status.ESCALATED, Status.REOPENED, Status.HANDLED)


def raise_urgency(*, case_id, reason: str, acting_user=None) -> Case:
    """One urgency level up (a rule of the platform or a module, e.g. a hazard next to a
    school): the deadlines still running are worked out again on the shorter clock; the
    timeline and audit say why. A critical or finished case is left as it is (no step)."""
    reason = _required(reason, "reason", _("Say why the case is more urgent."))
    with transaction.atomic():
        case = _locked(None, case_id)
        higher = HIGHER_URGENCY.get(case.urgency)
        if higher is None or case.status not in RAISABLE:
            return case
        data = {"from_urgency": case.urgency, "to_urgency": str(higher)}
        case.urgency = higher
        calendar = deadlines.tenant_calendar()
        if case.status == Status.REPORTED:
            case.accept_due = deadlines.due(case.category, "accept", higher, case.reported_at, calendar)
            case.accept_warn_at = deadlines.warn_at(case.category, "accept", higher, case.reported_at, calendar)
        elif case.dispatched_at and case.handle_due and not case.handled_at \
                and not case.extensions.filter(granted=True).exists():
            _set_handle_deadline(case, case.dispatched_at)
        case.version += 1
        case.save()
        _after(case, action="raise_urgency", from_status=case.status, actor=acting_user, comment=reason, data=data)
    return case


# What the audit row and the outbox event of a step already carry.
RESERVED_EVENT_KEYS = {"action", "actor", "target", "number", "status", "case_id", "version", "schema",
                       "notifications", "holding_department", "department_notified", "org_path"}


def record_verification(*, case_id, comment: str, data: dict | None = None, acting_user=None) -> Case:
    """A check of the case's problem on the ground by a module (a re-inspection found it
    rectified, or still there): on the timeline and in the audit trail, no change of status."""
    comment = _required(comment, "comment", _("Say what the check found."))
    reserved = sorted(set(data or {}) & RESERVED_EVENT_KEYS)
    if reserved:  # they would clash with the event's own fields in the audit row and the outbox
        raise ValueError(f"record_verification: data may not name {', '.join(reserved)}")
    with transaction.atomic():
        case = _locked(None, case_id)
        _after(case, action="verify", from_status=case.status, actor=acting_user, comment=comment,
               data=dict(data or {}))
    return case


def transfer_to_tenant(*, staff: StaffProfile, case_id, division_code: str, reason: str,
                       category_code: str = "", version: int | None = None) -> Case:
    """To another county of the province (the problem lies across the border): a
    linked case is reported there, in the same database transaction, and this one
    ends as transferred. Both timelines name the other case."""
    from django_tenants.utils import tenant_context

    from civicgrid.tenants.models import Tenant

    reason = _required(reason, "reason", _("Say why the case goes to another county."))
    here = connection.tenant

    def change(case):
        # Looked up only once the actor may act: a caller who may not learns nothing.
        target = (Tenant.objects.filter(division_code=(division_code or "").strip(), status=Tenant.Status.ACTIVE,
                                        level=Tenant.Level.COUNTY).exclude(pk=here.pk).first())
        if target is None:
            raise ValidationError({"division_code": _("There is no other active county with the code %(code)s.")
                                   % {"code": division_code}})
        with tenant_context(target):
            linked = report_case(
                staff=None, category=category_code or case.category.code, title=case.title,
                description=f"{case.description}\n\n{reason}".strip(), source=Source.DEPARTMENT,
                latitude=case.latitude, longitude=case.longitude, address=case.address or here.name,
                urgency=case.urgency, reporter_name=case.reporter_name, reporter_email=case.reporter_email)
            Case.objects.filter(pk=linked.pk).update(transferred_from=f"{here.schema_name}:{case.number}")
        case.transferred_to = f"{target.schema_name}:{linked.number}"
        case.closed_at = timezone.now()
        return {"to_tenant": target.division_code, "to_number": linked.number}

    return _transition(staff=staff, case_id=case_id, action="transfer_tenant", version=version, comment=reason,
                       change=change)
