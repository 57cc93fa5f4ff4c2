"""Notification channels get what stays unread: each notification once, after
``CIVICGRID_NOTIFY_UNREAD_AFTER``, never one read in time, only where a plugin
offering a channel is switched on, and once even when two runs meet."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from civicgrid.platform.cases import actions as case_actions
from civicgrid.platform.notifications.actions import mark_read
from civicgrid.platform.notifications.models import Notification
from civicgrid.plugins import actions
from civicgrid.plugins.channels import deliver_unread
from tests.platform.cases.test_workflow import handler, report, staff

from .test_core import published  # noqa: F401 -- the sample plugins, published


def dispatched(title: str = "渠道测试"):
    """A case dispatched to a department of two handlers: two notifications."""
    for username in ("channel_jus_1", "channel_jus_2"):
        handler("D-JUS", username=username)
    operator = staff("shangcheng_operator")
    case = report(title=title)
    case_actions.accept_case(staff=operator, case_id=case.pk)
    return case_actions.dispatch_case(staff=operator, case_id=case.pk, department="D-JUS")


def later(seconds: int = 1):
    return timezone.now() + timedelta(seconds=settings.CIVICGRID_NOTIFY_UNREAD_AFTER + seconds)


@pytest.fixture
def delivered():
    import sample_plugin.hooks

    sample_plugin.hooks.DELIVERED.clear()
    yield sample_plugin.hooks.DELIVERED
    sample_plugin.hooks.DELIVERED.clear()


def test_what_stays_unread_goes_out_once_and_what_was_read_never(published, delivered):  # noqa: F811
    actions.enable_plugin(tenant=published.shangcheng, plugin_id="sample", acting_user=None)
    with tenant_context(published.shangcheng):
        case = dispatched()
        notes = list(Notification.objects.filter(case=case).order_by("pk"))
        assert len(notes) == 2
        read_in_time = notes[0]
        mark_read(user=read_in_time.recipient, notification_id=read_in_time.pk)

        assert deliver_unread() == 0 and delivered == []  # too early: they may still read it
        assert deliver_unread(now=later()) == len(notes) - 1
        assert sorted(pk for _schema, pk in delivered) == [n.pk for n in notes[1:]]
        assert deliver_unread(now=later(60)) == 0 and len(delivered) == len(notes) - 1  # once
        assert not Notification.objects.filter(case=case, read_at__isnull=True, channelled_at__isnull=True).exists()


def test_a_notification_found_a_day_late_is_marked_not_sent(published, delivered):  # noqa: F811
    actions.enable_plugin(tenant=published.shangcheng, plugin_id="sample", acting_user=None)
    with tenant_context(published.shangcheng):
        case = dispatched()
        waiting = Notification.objects.filter(case=case).count()
        assert deliver_unread(now=later(settings.CIVICGRID_NOTIFY_CHANNEL_MAX_AGE)) == 0 and delivered == []
        assert Notification.objects.filter(case=case, channelled_at__isnull=False).count() == waiting


def test_nothing_goes_where_no_channel_is_switched_on(published, delivered):  # noqa: F811
    with tenant_context(published.yuhang):
        report(by="yuhang_operator", source="hotline_12345", latitude=None, longitude=None, address="余杭区某街道")
        assert deliver_unread(now=later()) == 0 and delivered == []


@pytest.mark.slow
def test_two_runs_at_once_hand_each_notification_over_once(committed, delivered):
    # Switched on in memory only (what activation leaves on the tenant row): the runs
    # need committed notifications, and a committed activation would outlive the test.
    tenant = committed.shangcheng
    tenant.active_plugins = ["sample"]
    try:
        with tenant_context(tenant):
            cases = [dispatched(title=f"并发渠道测试 {n}") for n in range(5)]
            expected = set(Notification.objects.filter(case__in=cases).values_list("pk", flat=True))
        moment, counts = later(), []

        def run():
            with tenant_context(tenant):
                counts.append(deliver_unread(now=moment, batch=1000))
            connection.close()

        runs = [threading.Thread(target=run) for _ in range(2)]
        for thread in runs:
            thread.start()
        for thread in runs:
            thread.join(60)
        handed = [pk for _schema, pk in delivered if pk in expected]
        assert expected and sorted(handed) == sorted(expected)
        assert sum(counts) == len(handed)  # what one run took, the other skipped
    finally:
        tenant.active_plugins = []
        with tenant_context(tenant):
            from civicgrid.platform.cases.models import Case
            from civicgrid.platform.notifications.models import OutboxEvent

            ids = list(Case.objects.filter(title__startswith="并发渠道测试").values_list("pk", flat=True))
            OutboxEvent.objects.filter(payload__case_id__in=ids).delete()
            Case.objects.filter(pk__in=ids).delete()
            from civicgrid.platform.accounts.models import User
            from civicgrid.platform.accounts.staff.models import StaffProfile

            StaffProfile.objects.filter(user__username__startswith="channel_jus_").delete()
            User.objects.filter(username__startswith="channel_jus_").delete()
