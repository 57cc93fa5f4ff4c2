"""What the category, routing and calendar pages and the API read (county admins
and command-centre operators)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from civicgrid.platform.accounts.staff.models import StaffRole

from . import deadlines
from .models import CalendarOverride, Category, RoutingRule

READERS = (StaffRole.COUNTY_ADMIN, StaffRole.COMMAND_OPERATOR)


def category_tree() -> list[Category]:
    """Every group (active or not) with ``leaves`` (each with ``rules``), in display order."""
    groups = list(Category.objects.filter(parent__isnull=True).order_by("sort_order", "code"))
    by_group = {group.pk: group for group in groups}
    for group in groups:
        group.leaves = []
    leaves = Category.objects.filter(parent__isnull=False).order_by("sort_order", "code")
    rules: dict[int, list[RoutingRule]] = {}
    for rule in RoutingRule.objects.select_related("area", "department").order_by("area__path"):
        rules.setdefault(rule.category_id, []).append(rule)
    for leaf in leaves:
        leaf.rules = rules.get(leaf.pk, [])
        by_group[leaf.parent_id].leaves.append(leaf)
    return groups


def calendar_outlook(start: date, days: int = 60) -> list[dict]:
    """For each day from ``start``: working or not, and where that answer came from."""
    calendar = deadlines.tenant_calendar()
    notes = dict(CalendarOverride.objects.filter(day__gte=start, day__lt=start + timedelta(days=days))
                 .values_list("day", "note"))
    outlook = []
    for offset in range(days):
        day = start + timedelta(days=offset)
        source = calendar.day_source(day)
        outlook.append({"day": day, "is_working": calendar.is_working_day(day), "source": source,
                        "source_label": source.label, "note": notes.get(day, ""), "overridden": day in notes})
    return outlook


def working_days(hours: Decimal) -> Decimal:
    """Working hours as working days of the calendar's office day (7.5 hours)."""
    return (Decimal(hours) / deadlines.tenant_calendar().hours.hours_per_day).quantize(Decimal("0.1"))
