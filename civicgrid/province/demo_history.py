"""Six weeks of past cases for the demo counties, so the dashboards, the map's density layer,
the assessment rankings and the province's trends have something to show; and a spike of
noise complaints today in 上城区, so the early warning has something to flag.

Every case goes through the real actions (report, accept, dispatch, start, handle, rate,
close); only then are its times moved back, all by the same amount, as if it had happened
then. Deterministic: the same county gets the same history.
"""

from __future__ import annotations

import random
import secrets
from datetime import timedelta

from django.db import connection
from django.utils import timezone

from civicgrid.platform.accounts.actions import create_staff_member
from civicgrid.platform.accounts.staff.models import StaffProfile, StaffRole
from civicgrid.platform.cases import actions
from civicgrid.platform.cases.early_warning import raise_early_warnings
from civicgrid.platform.cases.models import Case, CaseEvent, Source
from civicgrid.platform.org.models import Department, OrgUnit
from civicgrid.tenants.models import Tenant

HISTORY_DAYS = 42
# (leaf category, title, how often: relative weight)
KINDS = [
    ("DSP-NEIGHBOUR", "邻里纠纷调处", 4), ("DSP-PROPERTY", "物业服务纠纷", 2), ("HAZ-FIRE-EXIT", "楼道堆物堵塞消防通道", 3),
    ("HAZ-EBIKE", "电动车楼道充电", 3), ("HAZ-MANHOLE", "井盖缺失", 1), ("URB-ROAD", "道路坑洼", 3),
    ("URB-STREETLIGHT", "路灯不亮", 2), ("URB-GARBAGE", "垃圾乱堆放", 4), ("URB-PARKING", "人行道违停", 3),
    ("ENV-NOISE-NEIGHBOUR", "夜间噪音扰民", 1), ("ENV-COOKING-FUMES", "餐饮油烟扰民", 2),
    ("PUB-RENTAL-HOUSING", "出租房屋人员未登记", 2),
]
SOURCES = [Source.GRID_WORKER] * 5 + [Source.HOTLINE_12345] * 3 + [Source.RESIDENT_SITE, Source.WECHAT]
SPIKE_TENANT = "shangcheng"
SPIKE = ("ENV-NOISE-NEIGHBOUR", "夜间施工噪音扰民", 7)


def seed_demo_history(tenant: Tenant) -> int:
    """Past cases for one county (none for cities, nothing twice); returns how many."""
    if tenant.level != Tenant.Level.COUNTY or Case.objects.filter(
            reported_at__lt=timezone.now() - timedelta(days=2)).exists():
        return 0
    rng = random.Random(tenant.division_code)
    staff = _demo_staff(tenant)
    grids = list(OrgUnit.objects.filter(level=OrgUnit.Level.GRID).exclude(boundary=None).order_by("code"))
    weights = [weight for _code, _title, weight in KINDS]
    made = 0
    for days_ago in range(HISTORY_DAYS, 0, -1):
        for _ in range(rng.choice((0, 1, 1, 2, 2, 3))):
            code, title, _weight = rng.choices(KINDS, weights)[0]
            _past_case(staff, rng, grids, code, title, days_ago)
            made += 1
    if tenant.schema_name == SPIKE_TENANT:
        code, title, count = SPIKE
        for n in range(count):
            _report(staff, rng, grids[:4], code, f"{title}（{n + 1}）", Source.HOTLINE_12345)
            made += 1
        raise_early_warnings()
    return made


def _demo_staff(tenant: Tenant) -> dict[str, StaffProfile]:
    members = StaffProfile.objects.select_related("user", "scope_org_unit", "scope_department").filter(
        user__username__in=[f"{tenant.schema_name}_{suffix}" for suffix in ("gridworker", "operator")])
    return {member.user.username.rsplit("_", 1)[1]: member for member in members}


def _report(staff, rng, grids, code, title, source) -> Case:
    grid = rng.choice(grids)
    ring = grid.boundary["coordinates"][0]
    lngs, lats = [p[0] for p in ring], [p[1] for p in ring]
    by = staff["gridworker"] if source == Source.GRID_WORKER else staff["operator"]
    return actions.report_case(staff=by, category=code, title=title, source=source,
                               latitude=rng.uniform(min(lats), max(lats)), longitude=rng.uniform(min(lngs), max(lngs)))


def _past_case(staff, rng, grids, code, title, days_ago: int) -> None:
    operator = staff["operator"]
    case = _report(staff, rng, grids, code, title, rng.choice(SOURCES))
    stage = rng.random()
    if stage > 0.08:  # most are accepted and dispatched …
        actions.accept_case(staff=operator, case_id=case.pk)
        case = actions.dispatch_case(staff=operator, case_id=case.pk)
        handler = _handler_of(case.department)
        if stage > 0.2:  # … handled, rated and closed, a few of them late
            actions.start_case(staff=handler, case_id=case.pk)
            actions.handle_case(staff=handler, case_id=case.pk, result="已现场处置完毕。")
            actions.rate_case(staff=operator, case_id=case.pk, rating=rng.choice((3, 4, 4, 5, 5, 5)),
                              comment="回访满意度")
            actions.close_case(staff=operator, case_id=case.pk)
    _backdate(case.pk, days_ago, late=stage > 0.85)


def _backdate(case_id: int, days: int, *, late: bool) -> None:
    """Moves the case ``days`` back and spreads its steps as a working county would: accepted
    within two hours, handled within three days (a "late" one a day and a half after its
    deadline, so on-time rates are not all 100 %), closed after the revisit."""
    rng = random.Random(case_id)
    case = Case.objects.get(pk=case_id)
    shift = timedelta(days=days, hours=rng.uniform(-6, 6))
    reported = case.reported_at - shift
    moments = {"reported_at": reported, "accept_due": case.accept_due - shift,
               "accept_warn_at": case.accept_warn_at - shift if case.accept_warn_at else None}
    if case.accepted_at:
        moments["accepted_at"] = reported + timedelta(hours=rng.uniform(0.2, 2))
    if case.dispatched_at:
        dispatched = moments["accepted_at"] + timedelta(minutes=rng.uniform(5, 40))
        moved = dispatched - case.dispatched_at
        moments.update(dispatched_at=dispatched, handle_due=case.handle_due + moved if case.handle_due else None,
                       handle_warn_at=case.handle_warn_at + moved if case.handle_warn_at else None)
    if case.handled_at:
        handled = moments["dispatched_at"] + timedelta(hours=rng.uniform(3, 70))
        moments["handled_at"] = handled
        if late:
            moments["handle_due"] = handled - timedelta(hours=36)
        if case.closed_at:
            moments["closed_at"] = handled + timedelta(hours=rng.uniform(2, 20))
    _keep_in_the_past(moments, reported)
    Case.objects.filter(pk=case_id).update(**moments)
    at_step = {"report": "reported_at", "accept": "accepted_at", "dispatch": "dispatched_at", "start": "dispatched_at",
               "handle": "handled_at", "rate": "closed_at", "close": "closed_at"}
    for event in CaseEvent.objects.filter(case_id=case_id):
        moment = moments.get(at_step.get(event.action, "reported_at")) or reported
        CaseEvent.objects.filter(pk=event.pk).update(created_at=moment)


STEPS = ("accepted_at", "dispatched_at", "handled_at", "closed_at")


def _keep_in_the_past(moments: dict, reported) -> None:
    """A case reported yesterday cannot have been handled tomorrow: if its last step would fall
    after now, every step is drawn closer to the report in proportion (the order holds)."""
    last = max((moments[name] for name in STEPS if moments.get(name)), default=None)
    limit = timezone.now() - timedelta(minutes=30)
    if last is None or last <= limit:
        return
    scale = (limit - reported) / (last - reported)
    for name in (*STEPS, "handle_due", "handle_warn_at"):
        if moments.get(name):
            moments[name] = reported + (moments[name] - reported) * scale


def _handler_of(department: Department) -> StaffProfile:
    """Each department's own hand in the demo (the demo accounts list only 公安分局's)."""
    username = f"{connection.schema_name}_h_{department.code.lower().replace('-', '_')}"
    member = StaffProfile.objects.select_related("user", "scope_department").filter(user__username=username).first()
    if member is None:
        member = create_staff_member(username=username, password=secrets.token_urlsafe(24),
                                     role=StaffRole.DEPARTMENT_HANDLER, full_name=f"{department.name}承办人",
                                     scope_department=department, acting_user=None)
    return member
