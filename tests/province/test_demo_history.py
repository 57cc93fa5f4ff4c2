"""The demo's past cases: made through the actions, spread over six weeks, and a spike today
that the early warning flags."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django_tenants.utils import tenant_context

from civicgrid.platform.accounts.staff.models import StaffProfile
from civicgrid.platform.cases.models import Case, CaseEvent, EarlyWarning
from civicgrid.platform.cases.statistics import dashboard, last_days
from civicgrid.province.demo import add_default_departments
from civicgrid.province.demo_history import HISTORY_DAYS, seed_demo_history


def test_six_weeks_of_history_and_a_flagged_spike(world):
    with tenant_context(world.shangcheng):
        add_default_departments({})
        before = Case.objects.count()
        made = seed_demo_history(world.shangcheng)
        assert made >= HISTORY_DAYS // 2 and Case.objects.count() == before + made
        oldest = Case.objects.order_by("reported_at").first().reported_at
        assert timezone.now() - oldest > timedelta(days=HISTORY_DAYS - 2)
        # Each case's steps keep their order, and its timeline matches them.
        for case in Case.objects.filter(closed_at__isnull=False)[:10]:
            assert case.reported_at < case.accepted_at < case.dispatched_at < case.handled_at < case.closed_at
            handled = CaseEvent.objects.get(case=case, action="handle")
            assert handled.created_at == case.handled_at
        assert not Case.objects.filter(handled_at__gt=timezone.now()).exists(), "nothing handled in the future"
        assert not Case.objects.filter(closed_at__gt=timezone.now()).exists()
        figures = dashboard(StaffProfile.objects.get(user__username="shangcheng_operator"), last_days(30))
        assert 0 < figures["handling"]["on_time_rate"] < 100
        assert figures["handling"]["average_hours"] > 1
        warning = EarlyWarning.objects.get(day=timezone.localdate(), category__code="ENV-NOISE-NEIGHBOUR")
        assert warning.count >= 7 and warning.area_code == "T01"
        assert seed_demo_history(world.shangcheng) == 0, "seeding twice adds nothing"
        assert seed_demo_history(world.city) == 0, "cities have no cases of their own"
