"""Registry reads, already scoped to the actor. Views and the API never scope by themselves."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import Count, F, Max, Model, Prefetch, Q, QuerySet
from django.http import Http404

from civicgrid.platform.accounts.staff.models import PERSONAL_DATA_ROLES, StaffProfile, StaffRole
from civicgrid.platform.org.models import OrgUnit
from civicgrid.platform.org.selectors import unit_subtree_filter

from . import protection
from .identity import normalise_phone, parse_id_number
from .models import (
    Building,
    CareKind,
    CareRecord,
    House,
    Household,
    HouseholdVisit,
    Organisation,
    Person,
    Place,
    Thing,
)

GRID_BOUND_MODELS = (Person, Household, Building, House, Place, Organisation, Thing)
# Who may see a protected value in clear (with a stated purpose, audited).
UNMASK_ROLES = PERSONAL_DATA_ROLES
# Who may add and change registry records (within their scope).
WRITE_ROLES = {StaffRole.COUNTY_ADMIN, StaffRole.COMMAND_OPERATOR, StaffRole.TOWNSHIP_OPERATOR,
               StaffRole.COMMUNITY_OPERATOR, StaffRole.GRID_WORKER}


def registry_for(staff: StaffProfile, model: type[Model]) -> QuerySet:
    """Every row of a grid-bound model that ``staff`` may see."""
    rows = model.objects.select_related("grid")
    # Department handlers are confined by their department: a township
    # department sees its township, a county department sees nothing here.
    confine = unit_subtree_filter(staff, "grid")
    return rows if confine is None else rows.filter(confine)


def persons_for(staff: StaffProfile) -> QuerySet[Person]:
    return registry_for(staff, Person).select_related("household")


def access(staff: StaffProfile, model: type[Model], pk) -> Model:
    """One record if the actor may see it; the same 404 for missing and forbidden."""
    try:
        return registry_for(staff, model).get(pk=pk)
    except (model.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def care_kinds_for(staff: StaffProfile) -> QuerySet[CareKind]:
    return CareKind.objects.filter(granted_roles__contains=[staff.role])


def care_records_for(staff: StaffProfile) -> QuerySet[CareRecord]:
    return CareRecord.objects.select_related("kind", "person", "person__grid").filter(
        kind__in=care_kinds_for(staff), person__in=persons_for(staff)
    )


def can_unmask(staff: StaffProfile) -> bool:
    return staff.role in UNMASK_ROLES


def can_write(staff: StaffProfile) -> bool:
    return staff.role in WRITE_ROLES


# --- search: the filters the API, the console and the exports share ---------------

# What "name contains" looks at, per model: each kind of record is known by different words.
NAME_FIELDS = {
    Person: ("name",),
    Household: ("number", "address"),
    Building: ("code", "address"),
    House: ("room", "building__address"),
    Place: ("name", "address"),
    Organisation: ("name",),
    Thing: ("code", "kind"),
}


def _subtree_of(code: str, field: str) -> Q:
    """Rows whose ``field`` (an OrgUnit relation) lies under the unit ``code``; nothing if unknown."""
    unit = OrgUnit.objects.filter(code=code).only("path").first()
    return Q(**{f"{field}__path__startswith": unit.path}) if unit else Q(pk__in=[])


def _exact_index(raw: str, kind: str) -> str | None:
    """The blind index of an ID number or phone, so exact search never decrypts a row."""
    try:
        value = parse_id_number(raw).value if kind == "id" else normalise_phone(raw)
    except ValidationError:
        return None
    return protection.blind_index(value, kind)


def _filters_for(model: type[Model], filters: dict) -> Q:
    q = Q()
    for key, value in filters.items():
        if value in (None, ""):
            continue
        if key == "grid":
            q &= _subtree_of(value, "grid")
        elif key == "name":
            contains = Q()
            for field in NAME_FIELDS[model]:
                contains |= Q(**{f"{field}__icontains": value})
            q &= contains
        elif key == "updated_since":
            q &= Q(updated_at__gte=value)
        elif key in ("id_number", "phone") and model is Person:
            index = _exact_index(value, "id" if key == "id_number" else "phone")
            q &= Q(**{f"{key}_index": index}) if index else Q(pk__in=[])
        elif key in ("id_number_index", "phone_index") and model is Person:
            # A blind index the console's search put in its URL instead of the number itself.
            q &= Q(**{key: value})
        elif key in ("household", "building", "owner"):
            q &= Q(**{f"{key}_id": getattr(value, "pk", value)})
        elif key in ("residence", "gender", "kind", "is_key_place", "state", "is_rental", "code", "credit_code"):
            q &= Q(**{key: value})
        else:
            # A filter nobody implemented must not silently widen a search.
            raise TypeError(f"{model.__name__} has no registry filter {key!r}")
    return q


def search_registry(staff: StaffProfile, model: type[Model], **filters) -> QuerySet:
    """Scoped rows of a grid-bound model narrowed by the shared filters, in a stable order."""
    rows = persons_for(staff) if model is Person else registry_for(staff, model)
    if model is House:
        rows = rows.select_related("building", "owner")
    return rows.filter(_filters_for(model, filters)).order_by(*(model._meta.ordering or ["pk"]))


def search_care_records(staff: StaffProfile, *, grid: str = "", kind: str = "", person=None,
                        updated_since=None) -> QuerySet[CareRecord]:
    rows = care_records_for(staff)
    if grid:
        rows = rows.filter(_subtree_of(grid, "person__grid"))
    if kind:
        rows = rows.filter(kind__code=kind)
    if person is not None:
        rows = rows.filter(person_id=getattr(person, "pk", person))
    if updated_since:
        rows = rows.filter(updated_at__gte=updated_since)
    return rows.order_by("kind__code", "person__name", "pk")


def access_care_record(staff: StaffProfile, pk) -> CareRecord:
    """A care record of a granted kind about a visible person; one 404 otherwise."""
    try:
        return care_records_for(staff).get(pk=pk)
    except (CareRecord.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def access_care_kind(staff: StaffProfile, code: str) -> CareKind:
    try:
        return care_kinds_for(staff).get(code=code)
    except CareKind.DoesNotExist as exc:
        raise Http404 from exc


def with_visible_care(staff: StaffProfile, persons: QuerySet[Person]) -> QuerySet[Person]:
    """Persons with ``visible_care``: their care records of the kinds granted to ``staff``."""
    granted = CareRecord.objects.select_related("kind").filter(kind__in=care_kinds_for(staff)).order_by("kind__code")
    return persons.prefetch_related(Prefetch("care_records", queryset=granted, to_attr="visible_care"))


def sensitive_care_of(staff: StaffProfile, persons: QuerySet[Person]) -> QuerySet[CareRecord]:
    """The sensitive care records an export of ``persons`` will show, for the audit row."""
    return care_records_for(staff).filter(kind__is_sensitive=True, person__in=persons.values("pk"))


def houses_of(staff: StaffProfile, person: Person) -> QuerySet[House]:
    """Houses the person owns or lives in, as far as ``staff`` may see them."""
    return (registry_for(staff, House).select_related("building")
            .filter(Q(owner=person) | Q(occupants=person)).distinct().order_by("pk"))


def registry_counts(staff: StaffProfile) -> dict[type[Model], int]:
    counts = {model: registry_for(staff, model).count() for model in GRID_BOUND_MODELS}
    counts[CareRecord] = care_records_for(staff).count()
    return counts


def visits_for(staff: StaffProfile) -> QuerySet[HouseholdVisit]:
    """Visits to the households ``staff`` may see, newest first."""
    return HouseholdVisit.objects.select_related("household", "visited_by").filter(
        household__in=registry_for(staff, Household).values("pk")).order_by("-visited_at", "-pk")


def households_to_visit(staff: StaffProfile) -> QuerySet[Household]:
    """The actor's households with ``members`` (a count) and ``last_visit``, the longest unvisited first."""
    return (registry_for(staff, Household)
            .annotate(members_count=Count("members", distinct=True), last_visit=Max("visits__visited_at"))
            .order_by(F("last_visit").asc(nulls_first=True), "number"))


def head_count_in_grid(grid) -> int:
    """People registered in a grid: a count only, for the map (no one's personal data)."""
    return Person.objects.filter(grid=grid).count()
