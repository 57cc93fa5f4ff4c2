"""Monthly statements: per tenant and plugin, each meter's use over the month,
less the free units, times the unit price in force on the month's last day.
Amounts are yuan, rounded half-up to the fen per line; the total is the sum of
the lines. Making a month's statements again gives the same statements."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Q, Sum

from .models import Activation, CatalogEntry, Price, Statement, StatementLine, UsageRecord

FEN = Decimal("0.01")


@dataclass(frozen=True)
class Line:
    meter: str
    unit: str
    quantity: Decimal
    free: Decimal
    unit_price: Decimal

    @property
    def billable(self) -> Decimal:
        return max(self.quantity - self.free, Decimal(0))

    @property
    def amount(self) -> Decimal:
        return (self.billable * self.unit_price).quantize(FEN, rounding=ROUND_HALF_UP)


def month_of(day: date) -> date:
    return day.replace(day=1)


def next_month(period: date) -> date:
    return (period.replace(day=28) + timedelta(days=4)).replace(day=1)


def previous_month(today: date) -> date:
    return month_of(month_of(today) - timedelta(days=1))


def month_bounds(period: date) -> tuple[datetime, datetime]:
    """The month in the province's local time (a use at 23:30 on the 31st belongs to that month)."""
    zone = ZoneInfo(settings.TIME_ZONE)
    return (datetime.combine(period, time.min, tzinfo=zone), datetime.combine(next_month(period), time.min, tzinfo=zone))


def price_on(entry: CatalogEntry, meter: str, day: date) -> Price | None:
    return (Price.objects.filter(plugin=entry, meter=meter, effective_from__lte=day)
            .order_by("-effective_from").first())


def make_statements(period: date) -> list[Statement]:
    """Statements for ``period`` (any day in the month) for every tenant that used a
    plugin or had it switched on during the month."""
    period = month_of(period)
    start, end = month_bounds(period)
    last_day = next_month(period) - timedelta(days=1)
    used = (UsageRecord.objects.filter(at__gte=start, at__lt=end)
            .values("tenant_id", "plugin_id", "metric").annotate(total=Sum("quantity")))
    usage: dict[tuple[int, str], dict[str, Decimal]] = {}
    for row in used:
        usage.setdefault((row["tenant_id"], row["plugin_id"]), {})[row["metric"]] = row["total"]
    # On at some moment of the month: switched on before its end, and on still or switched off after its start.
    switched_on = Activation.objects.filter(Q(enabled=True) | Q(disabled_at__gte=start), enabled_at__lt=end)
    for tenant_id, plugin_id in switched_on.values_list("tenant_id", "plugin__plugin_id"):
        usage.setdefault((tenant_id, plugin_id), {})
    entries = {e.plugin_id: e for e in CatalogEntry.objects.filter(plugin_id__in={p for _, p in usage})}
    made = []
    for (tenant_id, plugin_id), by_meter in sorted(usage.items()):
        entry = entries.get(plugin_id)
        if entry is not None:
            made.append(_statement(tenant_id, entry, period, last_day, by_meter))
    return made


def statement_lines(entry: CatalogEntry, by_meter: dict[str, Decimal], day: date) -> list[Line]:
    lines = []
    units = {m["id"]: m.get("unit", "") for m in entry.meters}
    for meter in sorted(set(units) | set(by_meter)):
        price = price_on(entry, meter, day)
        lines.append(Line(meter=meter, unit=units.get(meter, ""), quantity=by_meter.get(meter, Decimal(0)),
                          free=Decimal(price.free if price else 0),
                          unit_price=price.unit_price if price else Decimal(0)))
    return lines


@transaction.atomic
def _statement(tenant_id: int, entry: CatalogEntry, period: date, last_day: date,
               by_meter: dict[str, Decimal]) -> Statement:
    lines = statement_lines(entry, by_meter, last_day)
    statement, _ = Statement.objects.update_or_create(
        tenant_id=tenant_id, plugin=entry, period=period,
        defaults={"vendor": entry.vendor, "total": sum((line.amount for line in lines), Decimal("0.00"))})
    statement.lines.all().delete()
    StatementLine.objects.bulk_create([
        StatementLine(statement=statement, meter=line.meter, unit=line.unit, quantity=line.quantity, free=line.free,
                      billable=line.billable, unit_price=line.unit_price, amount=line.amount) for line in lines])
    return statement
