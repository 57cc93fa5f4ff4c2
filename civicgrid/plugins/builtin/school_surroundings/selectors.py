"""Reads: schools visible to a member of staff, what lies inside a school's zone, the
rota's duty for a day and the figures for the console's home page.

The zone query (``zone_contents``) is a bounding box on the (latitude, longitude) indexes
of places and cases, then the exact great-circle distance on the few rows the box holds."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from django.db import connection
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from civicgrid.platform.accounts.staff.models import StaffProfile, StaffRole
from civicgrid.platform.cases.models import OPEN_STATUSES, Status
from civicgrid.platform.cases.selectors import case_scope, cases_for
from civicgrid.platform.org.selectors import unit_subtree_filter
from civicgrid.platform.registry.models import Place
from civicgrid.platform.registry.selectors import registry_for

from .geometry import bounding_box, distance_m
from .models import MAX_RADIUS_M, PatrolCheckIn, PatrolSlot, School

# A hazard is a located case not yet finished (a handled case waits for its closing visit).
HAZARD_STATUSES = tuple(str(s) for s in (*OPEN_STATUSES, Status.HANDLED))

R = StaffRole
VIEW_ROLES = (R.COUNTY_ADMIN, R.COMMAND_OPERATOR, R.TOWNSHIP_OPERATOR, R.COMMUNITY_OPERATOR, R.AUDITOR)
SCHOOL_EDIT_ROLES = (R.COUNTY_ADMIN,)  # the county admin sets schools and their zone's radius
ROTA_EDIT_ROLES = (R.COUNTY_ADMIN, R.COMMAND_OPERATOR, R.TOWNSHIP_OPERATOR)
PATROL_ROLES = (R.GRID_WORKER, R.TOWNSHIP_OPERATOR)  # who can be put on a rota and check in
SIX = Decimal("0.000001")


# --- schools -------------------------------------------------------------------------------


def schools_for(staff: StaffProfile) -> QuerySet[School]:
    """The schools in the actor's area (the whole county for county-wide roles)."""
    if staff.role not in VIEW_ROLES:
        return School.objects.none()
    rows = School.objects.select_related("grid")
    confine = unit_subtree_filter(staff, "grid")
    return rows if confine is None else rows.filter(confine)


def school_for(staff: StaffProfile, pk) -> School:
    try:
        return schools_for(staff).get(pk=pk)
    except (School.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def patroller_choices(staff: StaffProfile, school: School) -> QuerySet[StaffProfile]:
    """Who may be put on this school's rota: active grid workers and township staff of the
    school's township (the county's rota editors choose from the whole county)."""
    rows = StaffProfile.objects.select_related("user", "scope_org_unit").filter(
        is_active=True, role__in=PATROL_ROLES).order_by("role", "user__username")
    township_path = school.grid.path.split("/", 1)[0] + "/"
    return rows.filter(scope_org_unit__path__startswith=township_path)


# --- the zone ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ZonePlace:
    pk: int
    name: str
    kind: str
    address: str
    latitude: float
    longitude: float
    distance_m: int
    is_key_place: bool

    @property
    def kind_label(self) -> str:
        return str(Place.Kind(self.kind).label) if self.kind in Place.Kind.values else self.kind


@dataclass(frozen=True)
class ZoneHazard:
    pk: int
    number: str
    title: str
    status: str
    urgency: str
    category: str
    latitude: float
    longitude: float
    distance_m: int
    raised: bool = False

    @property
    def status_label(self) -> str:
        return str(Status(self.status).label)

    @property
    def urgency_label(self) -> str:
        from civicgrid.platform.cases.models import Urgency

        return str(Urgency(self.urgency).label)


@dataclass
class Zone:
    school: School
    radius_m: int
    places: list[ZonePlace] = field(default_factory=list)
    hazards: list[ZoneHazard] = field(default_factory=list)


def _box(lat: float, lng: float, radius_m: float) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    """The box as decimals of the registry's precision, rounded outwards."""
    south, north, west, east = bounding_box(lat, lng, radius_m)
    return (Decimal(south).quantize(SIX, ROUND_FLOOR), Decimal(north).quantize(SIX, ROUND_CEILING),
            Decimal(west).quantize(SIX, ROUND_FLOOR), Decimal(east).quantize(SIX, ROUND_CEILING))


# Places and hazards in the box, in one round trip (the box on each table's (latitude,
# longitude) index; numeric bounds for places, whose columns are numeric, so the index is used).
ZONE_SQL = """
SELECT 'p', p.id, p.name, p.kind, p.address, '', '', p.latitude::float8, p.longitude::float8, p.is_key_place, false
FROM registry_place p
WHERE p.latitude BETWEEN %s AND %s AND p.longitude BETWEEN %s AND %s
UNION ALL
SELECT 'c', c.id, c.title, c.status, c.number, c.urgency, k.name, c.latitude, c.longitude, false,
       EXISTS (SELECT 1 FROM school_surroundings_zonecase z WHERE z.case_id = c.id AND z.school_id = %s
                                                               AND z.raised_to <> '')
FROM cases_case c JOIN cases_category k ON k.id = c.category_id
WHERE c.latitude BETWEEN %s AND %s AND c.longitude BETWEEN %s AND %s AND c.status = ANY(%s)
"""


def zone_contents(school: School, *, staff: StaffProfile | None = None) -> Zone:
    """The registry's places and the open hazards (cases not closed or rejected, with a
    location) within the school's radius, nearest first, each with its distance in metres.
    One query: a bounding box on the places' and the cases' (latitude, longitude) indexes,
    then the exact great-circle distance on the few rows in the box. With ``staff``, only
    what that member may see (their registry and case scope: one more query each when their
    scope is not the whole county); without, everything (the platform's own use, the benchmark)."""
    lat, lng, radius = float(school.latitude), float(school.longitude), school.radius_m
    south, north, west, east = _box(lat, lng, radius)
    with connection.cursor() as cursor:
        cursor.execute(ZONE_SQL, [south, north, west, east, school.pk, float(south), float(north), float(west),
                                  float(east), list(HAZARD_STATUSES)])
        rows = cursor.fetchall()
    places, hazards = [], []
    for tag, pk, name, kind, text, urgency, category, r_lat, r_lng, key, raised in rows:
        metres = distance_m(lat, lng, r_lat, r_lng)
        if metres > radius:
            continue
        if tag == "p":
            places.append(ZonePlace(pk, name, kind, text, r_lat, r_lng, round(metres), key))
        else:
            hazards.append(ZoneHazard(pk, text, name, kind, urgency, category, r_lat, r_lng, round(metres),
                                      raised=raised))
    if staff is not None:
        if places and unit_subtree_filter(staff, "grid") is not None:
            seen = set(registry_for(staff, Place).filter(pk__in=[p.pk for p in places]).values_list("pk", flat=True))
            places = [p for p in places if p.pk in seen]
        if hazards and case_scope(staff) is not None:
            seen = set(cases_for(staff).filter(pk__in=[h.pk for h in hazards]).values_list("pk", flat=True))
            hazards = [h for h in hazards if h.pk in seen]
    places.sort(key=lambda p: (p.distance_m, p.pk))
    hazards.sort(key=lambda h: (h.distance_m, h.pk))
    return Zone(school=school, radius_m=radius, places=places, hazards=hazards)


def schools_around(latitude: float, longitude: float) -> list[tuple[School, int]]:
    """The schools whose zone holds this point, with the distance to each (nearest first)."""
    south, north, west, east = _box(latitude, longitude, MAX_RADIUS_M)
    found = []
    for school in School.objects.filter(latitude__gte=south, latitude__lte=north, longitude__gte=west,
                                        longitude__lte=east):
        metres = distance_m(float(school.latitude), float(school.longitude), latitude, longitude)
        if metres <= school.radius_m:
            found.append((school, round(metres)))
    return sorted(found, key=lambda pair: pair[1])


# Every hazard inside any of the given schools' zones, in one query: per school the box on the
# cases' index (LATERAL), then the haversine distance in SQL.
HAZARDS_NEAR_SCHOOLS = """
SELECT s.id, c.id
FROM school_surroundings_school s
CROSS JOIN LATERAL (
    SELECT degrees(s.radius_m / 6371008.8) * 1.001 AS dlat,
           degrees(asin(least(1.0, sin(s.radius_m / 6371008.8) / cos(radians(s.latitude::float8))))) * 1.001 AS dlng
) box
JOIN cases_case c
  ON c.latitude BETWEEN s.latitude::float8 - box.dlat AND s.latitude::float8 + box.dlat
 AND c.longitude BETWEEN s.longitude::float8 - box.dlng AND s.longitude::float8 + box.dlng
WHERE s.id = ANY(%s) AND c.status = ANY(%s)
  AND 2 * 6371008.8 * asin(least(1.0, sqrt(
        power(sin(radians(c.latitude - s.latitude::float8) / 2), 2)
        + cos(radians(s.latitude::float8)) * cos(radians(c.latitude))
          * power(sin(radians(c.longitude - s.longitude::float8) / 2), 2)))) <= s.radius_m
"""


def hazards_by_school(staff: StaffProfile, schools: list[School]) -> dict[int, int]:
    """{school id: open hazards in its zone} for these schools, as ``staff`` may see them."""
    if not schools:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(HAZARDS_NEAR_SCHOOLS, [[s.pk for s in schools], list(HAZARD_STATUSES)])
        pairs = cursor.fetchall()
    visible = set(cases_for(staff).filter(pk__in={c for _, c in pairs}).values_list("pk", flat=True)) if pairs \
        else set()
    counts: dict[int, int] = {s.pk: 0 for s in schools}
    for school_id, case_id in pairs:
        if case_id in visible:
            counts[school_id] += 1
    return counts


def hazard_count(staff: StaffProfile, schools: list[School]) -> int:
    """Distinct open hazards inside any of these schools' zones (a case near two schools counts once)."""
    if not schools:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(HAZARDS_NEAR_SCHOOLS, [[s.pk for s in schools], list(HAZARD_STATUSES)])
        ids = {case_id for _, case_id in cursor.fetchall()}
    return cases_for(staff).filter(pk__in=ids).count() if ids else 0


# --- the rota and the day's duty -----------------------------------------------------------


class DutyState:
    DONE = "done"
    MISSED = "missed"
    NOW = "now"
    LATER = "later"


@dataclass
class Duty:
    slot: PatrolSlot
    day: date
    state: str
    checkins: list[PatrolCheckIn]

    @property
    def school(self) -> School:
        return self.slot.school


def slot_state(slot: PatrolSlot, day: date, checked_in: bool, now: datetime) -> str:
    if checked_in:
        return DutyState.DONE
    local = timezone.localtime(now)
    starts = timezone.make_aware(datetime.combine(day, slot.starts_at))
    ends = timezone.make_aware(datetime.combine(day, slot.ends_at))
    if local > ends:
        return DutyState.MISSED
    return DutyState.NOW if local >= starts else DutyState.LATER


def _duty(slots: QuerySet[PatrolSlot], day: date, now: datetime) -> list[Duty]:
    slots = list(slots.filter(is_active=True, weekdays__contains=str(day.isoweekday()))
                 .select_related("school", "school__grid").prefetch_related("patrollers__user")
                 .order_by("starts_at", "school__code", "pk"))
    checkins: dict[int, list[PatrolCheckIn]] = {}
    for item in PatrolCheckIn.objects.filter(day=day, slot__in=[s.pk for s in slots]).select_related(
            "patroller__user").order_by("checked_at"):
        checkins.setdefault(item.slot_id, []).append(item)
    return [Duty(slot, day, slot_state(slot, day, bool(checkins.get(slot.pk)), now), checkins.get(slot.pk, []))
            for slot in slots]


def duty_for(staff: StaffProfile, day: date | None = None, now: datetime | None = None) -> list[Duty]:
    """Every rota slot of the day in the actor's schools, with its check-ins and its state."""
    now = now or timezone.now()
    day = day or timezone.localdate(now)
    return _duty(PatrolSlot.objects.filter(school__in=schools_for(staff)), day, now)


def my_duty(staff: StaffProfile, day: date | None = None, now: datetime | None = None) -> list[Duty]:
    """The slots of the day this patroller is on."""
    now = now or timezone.now()
    day = day or timezone.localdate(now)
    if staff.role not in PATROL_ROLES:
        return []
    return _duty(PatrolSlot.objects.filter(patrollers=staff), day, now)


def slot_for_patroller(staff: StaffProfile, pk) -> PatrolSlot:
    try:
        return PatrolSlot.objects.select_related("school").get(pk=pk, is_active=True, patrollers=staff)
    except (PatrolSlot.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def checkins_for(staff: StaffProfile) -> QuerySet[PatrolCheckIn]:
    """Check-ins the actor may see: their own (patrollers), or those at their schools."""
    rows = PatrolCheckIn.objects.select_related("slot", "slot__school", "patroller__user")
    if staff.role in VIEW_ROLES:
        return rows.filter(slot__school__in=schools_for(staff))
    if staff.role in PATROL_ROLES:
        return rows.filter(patroller=staff)
    return rows.none()


def rota_of(school: School) -> list[PatrolSlot]:
    return list(school.slots.filter(is_active=True).prefetch_related("patrollers__user").order_by("starts_at"))


def day_bounds(day: date) -> tuple[datetime, datetime]:
    return (timezone.make_aware(datetime.combine(day, time.min)), timezone.make_aware(datetime.combine(day, time.max)))


# --- the home page's box ---------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    schools: int
    hazards: int
    done: int
    missed: int
    planned: int


def figures(staff: StaffProfile, now: datetime | None = None) -> Figures:
    schools = list(schools_for(staff).select_related(None).only("pk"))
    duty = duty_for(staff, now=now)
    return Figures(schools=len(schools), hazards=hazard_count(staff, schools),
                   done=sum(d.state == DutyState.DONE for d in duty),
                   missed=sum(d.state == DutyState.MISSED for d in duty), planned=len(duty))
