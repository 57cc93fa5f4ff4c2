"""The demo's schools, rota, check-in, place and open case in 上城区: seeded twice, made once."""

from __future__ import annotations

from django_tenants.utils import tenant_context

from civicgrid.platform.cases.models import Case, Urgency
from civicgrid.platform.registry.models import Place
from civicgrid.plugins.builtin.school_surroundings import demo, selectors
from civicgrid.plugins.builtin.school_surroundings.models import PatrolCheckIn, PatrolSlot, School, ZoneCase

from .helpers import everyone, switch_on


def test_the_demo_is_seeded_once(world):
    switch_on(world)
    with tenant_context(world.shangcheng):
        everyone()  # the demo's township operator and grid worker
        from civicgrid.platform.accounts.actions import create_staff_member
        from civicgrid.platform.accounts.staff.models import StaffRole
        from civicgrid.platform.org.models import OrgUnit

        create_staff_member(username="shangcheng_township", password="x" * 12, role=StaffRole.TOWNSHIP_OPERATOR,
                            scope_org_unit=OrgUnit.objects.get(code="T01"), acting_user=None)
        demo.seed_demo(tenant=world.shangcheng)
        counts = (School.objects.count(), PatrolSlot.objects.count(), PatrolCheckIn.objects.count(),
                  Place.objects.filter(name=demo.CAFE[0]).count(), Case.objects.filter(title=demo.CASE_TITLE).count(),
                  ZoneCase.objects.count())
        assert counts == (3, 2, 1, 1, 1, 1)
        demo.seed_demo(tenant=world.shangcheng)
        assert counts == (School.objects.count(), PatrolSlot.objects.count(), PatrolCheckIn.objects.count(),
                          Place.objects.filter(name=demo.CAFE[0]).count(),
                          Case.objects.filter(title=demo.CASE_TITLE).count(), ZoneCase.objects.count())
        case = Case.objects.get(title=demo.CASE_TITLE)
        assert case.urgency == Urgency.URGENT
        zone = selectors.zone_contents(School.objects.get(code="SC-S001"))
        assert [h.pk for h in zone.hazards] == [case.pk] and zone.hazards[0].raised
        assert [p.name for p in zone.places] == [demo.CAFE[0]]
