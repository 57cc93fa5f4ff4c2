"""Each unit's risk level from its history, computed for all units in one statement.

score = the kind's weight (crowded rental houses and e-bike charging points 2, small lodgings
and workshops 1, small shops 0)
      + 2 per open hazard
      + 1 per item failed in the last 12 months
      + 1 when the unit was not inspected in the last 12 months;
high from 5, medium from 2, else low. Run daily (a periodic job) and for one unit after each
of its inspections.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection
from django.utils import timezone

KIND_WEIGHT = {"rental_house": 2, "ebike_charging": 2, "small_lodging": 1, "small_workshop": 1, "small_shop": 0}
OPEN_HAZARD_WEIGHT = 2
NOT_INSPECTED_WEIGHT = 1
HIGH_FROM, MEDIUM_FROM = 5, 2
WINDOW = "12 months"

SQL = """
WITH units AS (
    SELECT id, kind FROM fire_safety_riskunit u WHERE {where}
), open_hazards AS (
    SELECT h.unit_id, count(*) AS n FROM fire_safety_hazard h JOIN units ON units.id = h.unit_id
    WHERE h.status = 'open' GROUP BY h.unit_id
), recent AS (
    SELECT i.unit_id, count(r.id) FILTER (WHERE r.result = 'fail') AS failed
    FROM fire_safety_inspection i JOIN units ON units.id = i.unit_id
    LEFT JOIN fire_safety_itemresult r ON r.inspection_id = i.id
    WHERE i.inspected_at >= %(now)s - interval '{window}'
    GROUP BY i.unit_id
), scored AS (
    SELECT units.id,
           CASE units.kind {kind_cases} ELSE 0 END
           + {open_weight} * coalesce(open_hazards.n, 0)
           + coalesce(recent.failed, 0)
           + CASE WHEN recent.unit_id IS NULL THEN {stale_weight} ELSE 0 END AS score
    FROM units LEFT JOIN open_hazards ON open_hazards.unit_id = units.id
    LEFT JOIN recent ON recent.unit_id = units.id
)
UPDATE fire_safety_riskunit u
SET risk_level = CASE WHEN s.score >= {high} THEN 'high' WHEN s.score >= {medium} THEN 'medium' ELSE 'low' END,
    risk_computed_on = %(today)s
FROM scored s WHERE s.id = u.id
  AND (u.risk_computed_on IS DISTINCT FROM %(today)s
       OR u.risk_level <> CASE WHEN s.score >= {high} THEN 'high' WHEN s.score >= {medium} THEN 'medium' ELSE 'low' END)
"""


def _statement(where: str) -> str:
    kind_cases = " ".join(f"WHEN '{kind}' THEN {weight}" for kind, weight in KIND_WEIGHT.items())
    return SQL.format(where=where, window=WINDOW, kind_cases=kind_cases, open_weight=OPEN_HAZARD_WEIGHT,
                      stale_weight=NOT_INSPECTED_WEIGHT, high=HIGH_FROM, medium=MEDIUM_FROM)


def recompute_risk_levels(unit_ids: Iterable[int] | None = None) -> int:
    """Every active unit's level (or only ``unit_ids``'), with today's date; the number of units
    whose level or date changed (a second run on the same day with nothing new touches none)."""
    now = timezone.now()
    params = {"now": now, "today": timezone.localdate(now)}
    if unit_ids is None:
        where = "u.is_active"
    else:
        params["ids"] = [int(pk) for pk in unit_ids]
        if not params["ids"]:
            return 0
        where = "u.id = ANY(%(ids)s)"
    with connection.cursor() as cursor:
        cursor.execute(_statement(where), params)
        return cursor.rowcount
