"""Demo data for 上城区: three schools in the demo grids, a patrol rota with a check-in today,
an internet café and an open case (street vendors at the gate) inside a school's zone.
Called by the province's demo inside the tenant, after the module is switched on; idempotent."""

from __future__ import annotations

from datetime import datetime, time
from decimal import Decimal

from django.utils import timezone

from civicgrid.platform.accounts.staff.models import StaffProfile, StaffRole
from civicgrid.platform.cases import actions as case_actions
from civicgrid.platform.cases.models import Case
from civicgrid.platform.org.models import OrgUnit
from civicgrid.platform.registry import actions as registry_actions
from civicgrid.platform.registry.models import Place

from . import actions
from .models import PatrolCheckIn, PatrolSlot, School

# (code, name, kind, grid, latitude, longitude, pupils, opens, closes)
SCHOOLS = [
    ("SC-S001", "幸福小学", "primary", "T01-C01-G01", "30.245500", "120.175000", 860, time(7, 40), time(16, 30)),
    ("SC-S002", "和平初级中学", "junior", "T01-C02-G01", "30.246000", "120.186000", 1240, time(7, 20), time(17, 10)),
    ("SC-S003", "光明幼儿园", "kindergarten", "T02-C01-G01", "30.245000", "120.195000", 320, time(8, 0), time(16, 0)),
]
CAFE = ("星际网咖（幸福小学店）", "幸福路18号", "30.246300", "120.175900")
CASE_TITLE = "幸福小学校门口流动摊贩聚集"


def _staff(role, code_suffix: str) -> StaffProfile | None:
    return (StaffProfile.objects.select_related("user", "scope_org_unit")
            .filter(role=role, is_active=True, user__username__endswith=code_suffix).first())


def seed_demo(*, tenant) -> None:
    admin = StaffProfile.objects.filter(role=StaffRole.COUNTY_ADMIN, is_active=True).select_related("user").first()
    worker = _staff(StaffRole.GRID_WORKER, "_gridworker")
    township = _staff(StaffRole.TOWNSHIP_OPERATOR, "_township")
    grids = {g.code: g for g in OrgUnit.objects.filter(level=OrgUnit.Level.GRID)}
    schools = {}
    for code, name, kind, grid, lat, lng, pupils, opens, closes in SCHOOLS:
        school = School.objects.filter(code=code).first()
        if school is None and grid in grids:
            school = actions.create_school(staff=None, code=code, name=name, kind=kind, address=f"{name}（演示）",
                                           grid=grids[grid], latitude=Decimal(lat), longitude=Decimal(lng),
                                           pupils=pupils, contact="校办 0571-8700 0000", opens_at=opens,
                                           closes_at=closes, radius_m=200)
        if school is not None:
            schools[code] = school
    first = schools.get("SC-S001")
    if first is None:
        return

    # The rota: mornings and afternoons, every day in the demo so today always has duty.
    patrollers = [p for p in (worker, township) if p is not None]
    if patrollers and not PatrolSlot.objects.filter(school=first).exists():
        rota_staff = admin
        for starts, ends in ((time(7, 0), time(8, 0)), (time(16, 0), time(17, 30))):
            actions.add_slot(staff=rota_staff, school=first, weekdays="1234567", starts_at=starts, ends_at=ends,
                             patrollers=patrollers)
    # Today's morning patrol was walked.
    morning = PatrolSlot.objects.filter(school=first, starts_at=time(7, 0), is_active=True).first()
    if morning is not None and worker is not None:
        today = timezone.localdate()
        if not PatrolCheckIn.objects.filter(slot=morning, day=today).exists():
            at = timezone.make_aware(datetime.combine(today, time(7, 25)))
            actions.check_in(staff=worker, slot_id=morning.pk, latitude=30.2457, longitude=120.1753,
                             device_key=f"demo-{morning.pk}-{today:%Y%m%d}", checked_at=at, now=at,
                             note="校门口秩序正常")

    # A place and an open case inside the first school's zone.
    if worker is not None and not Place.objects.filter(name=CAFE[0]).exists():
        registry_actions.create_place(staff=worker, grid=first.grid, name=CAFE[0], kind=Place.Kind.INTERNET_CAFE,
                                      address=CAFE[1], is_key_place=True, latitude=Decimal(CAFE[2]),
                                      longitude=Decimal(CAFE[3]))
    case = Case.objects.filter(title=CASE_TITLE).first()
    if case is None and worker is not None:
        case = case_actions.report_case(staff=worker, category="SCHOOL-VENDORS", title=CASE_TITLE,
                                        description="放学时段校门口有4个流动摊贩售卖无包装食品，学生围聚，影响通行。",
                                        latitude=30.2451, longitude=120.1757, address="幸福小学南门")
    if case is not None:
        actions.note_case_in_zone(case_id=case.pk)  # what the hook does after commit, at once for the demo
