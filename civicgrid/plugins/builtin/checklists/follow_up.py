"""What follows from an inspection's answers: the one implementation of the loop
inspection → case → handled → re-inspection, for every module on this library.

A module keeps its findings in a model of its own (fire safety's ``Hazard``, food safety's
``Finding``) with these fields: ``<owner>`` (what was inspected: a unit, a business),
``item``, ``found`` (the failed ``ItemResult``), ``case`` (nullable), ``status``
(``"open"`` / ``"rectified"``, at most one open per owner and item), ``rectified_in`` and
``rectified_at``. It describes itself once in a ``FollowUp`` and calls it::

    FOLLOW_UP = FollowUp(finding=Hazard, owner="unit", report=_report,
                         closed_comment=_l("Closed: a re-inspection had found the hazard rectified."))

    def create():                      # the callable given to ``services.record_once``
        unit = FOLLOW_UP.lock(unit)    # first: two inspections of one unit at once take turns
        inspection = ...; results = services.store_results(...)
        cases = FOLLOW_UP.after_inspection(staff=staff, owner=unit, inspection=inspection,
                                           results=results, answers=submission.answers)

and its ``civicgrid_case_transitioned`` hook calls ``close_when_handled(event, FOLLOW_UP)``.

The rules, per answered item:

- **pass**, with an open finding: the finding is rectified. Its case, when handled, is
  closed by the platform on the inspector's verification (a grid worker may not close a
  case; no other open finding may hang on it); a case not handled yet gets the
  verification on its timeline and is closed by the hook once its department reports it
  handled; a case already closed, rejected, transferred or merged is left alone.
- **fail**, with an open finding whose case is still open: "still failing" on the case's
  timeline (``record_verification``), nothing new.
- **fail**, with an open finding whose case was closed (handled and closed without a
  re-inspection): the case is reopened when it closed within the reopen window, else a new
  case is reported; the finding now points at it. An open finding whose case was rejected,
  transferred, merged or deleted gets a new case.
- **fail**, with no open finding: a new finding. Its case is the last rectified finding's
  case reopened, when that case closed within the reopen window; else a new case.
- **not applicable**: nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.platform.cases import actions as case_actions
from civicgrid.platform.cases.models import Case, Status

from .models import Answer

OPEN, RECTIFIED = "open", "rectified"
# A finding's case in one of these no longer follows the finding: a failure reports anew.
GONE = (Status.REJECTED, Status.TRANSFERRED, Status.MERGED)
# A case in one of these takes no more notes from a re-inspection.
FINISHED = (Status.CLOSED, *GONE)


@dataclass(frozen=True)
class FollowUp:
    """One module's findings, and how it reports a case.

    ``finding``: the findings' model. ``owner``: the name of its field pointing at what was
    inspected. ``report(staff, owner, inspection, result, answer) -> Case``: report a new
    case for a failed item (through ``report_case``) and make whatever link the module keeps.
    ``extra(result) -> dict``: more fields for a new finding. ``closed_comment``: the
    timeline's words when the hook closes a case."""

    finding: type
    owner: str
    report: Callable
    closed_comment: object = ""
    extra: Callable[[object], dict] = field(default=lambda result: {})

    # --- the entry points ---------------------------------------------------------------

    def lock(self, owner):
        """The owner's row, locked until the transaction ends: two inspections of one owner
        at the same moment take turns, and the second sees the first's findings. Call it
        first in the ``create`` callable."""
        return type(owner).objects.select_for_update().get(pk=owner.pk)

    def after_inspection(self, *, staff, owner, inspection, results, answers) -> list[Case]:
        """Apply the rules to every answer of a stored inspection; the cases reported anew
        or reopened (for the audit row)."""
        cases = []
        for result, answer in zip(results, answers, strict=True):
            if result.result == Answer.FAIL:
                case = self.failed(staff=staff, owner=owner, inspection=inspection, result=result, answer=answer)
                if case is not None:
                    cases.append(case)
            elif result.result == Answer.PASS:
                self.passed(owner=owner, inspection=inspection, result=result)
        return cases

    def close_verified(self, case_id: int) -> Case | None:
        """A case whose findings re-inspections have all found rectified, now handled: closed
        by the platform. Anything else (no findings, one still open, not handled): None."""
        findings = self.finding.objects.filter(case_id=case_id)
        if not findings.exists() or findings.filter(status=OPEN).exists():
            return None
        if not Case.objects.filter(pk=case_id, status=Status.HANDLED).exists():
            return None
        return case_actions.close_case(staff=None, case_id=case_id, comment=str(self.closed_comment))

    # --- one answer ---------------------------------------------------------------------

    def _of(self, owner, result):
        return self.finding.objects.filter(**{self.owner: owner}, item_id=result.item_id)

    def failed(self, *, staff, owner, inspection, result, answer) -> Case | None:
        """A failed item (see the module's docstring); the case reported or reopened, or None
        when the open finding's case only got a note."""
        still = _("Inspection %(number)s found it not rectified.") % {"number": inspection.number}
        finding = self._of(owner, result).select_for_update(of=("self",)).select_related("case") \
            .filter(status=OPEN).first()
        if finding is not None:
            case = finding.case
            if case is not None and case.status not in FINISHED:
                note(case, inspection, result=Answer.FAIL, comment=still)
                return None
            case = (reopen(case, still) if case is not None and case.status == Status.CLOSED else None) \
                or self.report(staff, owner, inspection, result, answer)
            finding.case = case
            finding.save(update_fields=["case"])
            return case
        last = (self._of(owner, result).filter(status=RECTIFIED).select_related("case")
                .order_by("-rectified_at", "-pk").first())
        if last is not None and last.case is not None and last.case.status not in FINISHED:
            # Found rectified, failing again before its case was handled: the same problem, the
            # same case (which then stays open until a re-inspection finds it rectified again).
            last.status, last.rectified_in, last.rectified_at = OPEN, None, None
            last.save(update_fields=["status", "rectified_in", "rectified_at"])
            note(last.case, inspection, result=Answer.FAIL, comment=still)
            return None
        case = None
        if last is not None and last.case is not None and last.case.status == Status.CLOSED:
            case = reopen(last.case, still)
        if case is None:
            case = self.report(staff, owner, inspection, result, answer)
        self.finding.objects.create(**{self.owner: owner}, item_id=result.item_id, found=result, case=case,
                                    **self.extra(result))
        return case

    def passed(self, *, owner, inspection, result) -> None:
        """A passing item rectifies its open finding and moves the finding's case on."""
        finding = self._of(owner, result).select_for_update(of=("self",)).select_related("case") \
            .filter(status=OPEN).first()
        if finding is None:
            return
        finding.status, finding.rectified_in, finding.rectified_at = RECTIFIED, inspection, timezone.now()
        finding.save(update_fields=["status", "rectified_in", "rectified_at"])
        case = finding.case
        if case is None or case.status in FINISHED:
            return
        comment = _("Re-inspection %(number)s found it rectified.") % {"number": inspection.number}
        others_open = self.finding.objects.filter(case_id=case.pk, status=OPEN).exists()
        if case.status == Status.HANDLED and not others_open:
            case_actions.close_case(staff=None, case_id=case.pk, comment=comment)
        else:
            note(case, inspection, result=Answer.PASS, comment=comment)


def note(case: Case, inspection, *, result: str, comment: str) -> None:
    """A re-inspection's finding on the case's timeline (no change of status)."""
    case_actions.record_verification(case_id=case.pk, comment=comment, acting_user=inspection.inspected_by,
                                     data={"inspection": inspection.pk, "result": str(result)})


def reopen(case: Case, reason: str) -> Case | None:
    """The closed case reopened by the platform, or None when it closed too long ago (or
    someone moved it first)."""
    if case.closed_at and timezone.now() - case.closed_at > timedelta(days=case_actions.REOPEN_DAYS):
        return None
    try:
        return case_actions.reopen_case(staff=None, case_id=case.pk, reason=reason)
    except case_actions.CaseConflict:
        return None


def close_when_handled(event, follow_up: FollowUp) -> Case | None:
    """The modules' ``civicgrid_case_transitioned`` hook: a case handled after its
    re-inspection had already found it rectified is closed."""
    if getattr(event, "action", None) != "handle":
        return None
    return follow_up.close_verified(event.case_id)
