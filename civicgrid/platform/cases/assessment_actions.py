"""Changing how assessment scores are made: the county admin sets the weights.

Weights are rules of the game, so every change leaves an audit row with the old
and the new values. How weights enter a score is told in ``assessment``.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _

from civicgrid.platform.accounts.staff.models import StaffProfile, StaffRole
from civicgrid.platform.audit.actions import record

from .assessment import DEFAULT_WEIGHTS, MEASURES, PENALTIES, current_weights
from .models import AssessmentWeight

MAX_WEIGHT = Decimal("1000")


def set_weights(*, staff: StaffProfile, weights: dict) -> dict[str, Decimal]:
    """Change some weights (metric → number; None or "" puts the default back).
    County admins only; returns every weight as it now stands."""
    if staff.role != StaffRole.COUNTY_ADMIN:
        raise Http404
    if not isinstance(weights, dict) or not weights:
        raise ValidationError({"weights": _("Give at least one weight.")})
    changes, errors = {}, {}
    for metric, raw in weights.items():
        if metric not in DEFAULT_WEIGHTS:
            errors[str(metric)] = _("There is no measure called %(metric)s.") % {"metric": metric}
            continue
        value = _number(raw, metric, errors)
        if value is not None or raw in (None, ""):
            changes[metric] = value
    if errors:
        raise ValidationError(errors)

    with transaction.atomic():
        before = current_weights()
        after = dict(before)
        after.update({metric: DEFAULT_WEIGHTS[metric] if value is None else value
                      for metric, value in changes.items()})
        _check_each_kind_counts_something(after)
        for metric, value in changes.items():
            if value is None:
                AssessmentWeight.objects.filter(metric=metric).delete()
            else:
                AssessmentWeight.objects.update_or_create(metric=metric, defaults={"weight": value})
        changed = {metric: [str(before[metric]), str(after[metric])] for metric in changes
                   if before[metric] != after[metric]}
        record(action="assessment.weights", actor=staff.user, changes=changed)
    return after


def _number(raw, metric: str, errors: dict) -> Decimal | None:
    if raw in (None, ""):
        return None
    try:
        value = Decimal(str(raw).strip())
    except (InvalidOperation, ValueError):
        errors[metric] = _("A weight is a number.")
        return None
    if not value.is_finite() or not (0 <= value <= MAX_WEIGHT) or value != value.quantize(Decimal("0.01")):
        errors[metric] = _("A weight is a number from 0 to 1000 with at most two decimals.")
        return None
    if metric == "report_target" and value == 0:
        errors[metric] = _("The number of reports for full marks must be above 0.")
        return None
    return value.quantize(Decimal("0.01"))


def _check_each_kind_counts_something(weights: dict[str, Decimal]) -> None:
    for measures in MEASURES.values():
        scoring = [m for m in measures if m not in PENALTIES]
        if not any(weights[m] > 0 for m in scoring):
            raise ValidationError({"weights": _("Each table needs at least one measure with a weight above 0: "
                                                "%(measures)s.") % {"measures": ", ".join(scoring)}})
