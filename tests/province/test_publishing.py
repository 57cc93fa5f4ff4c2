"""Publishing the daily aggregates: each measure counted on the day its fact happened, the
overdue snapshot as at the end of a day, no personal data in public, the same rows on every
run and from two workers at once; the beat's fan-out and its task; the backfill command."""

from __future__ import annotations

import io
import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone, translation
from django_tenants.utils import schema_context, tenant_context

from civicgrid.platform.cases import actions
from civicgrid.platform.cases.models import Case, CaseEvent
from civicgrid.platform.cases.publishing import MEASURES as SELECTOR_MEASURES
from civicgrid.platform.cases.publishing import daily_aggregates
from civicgrid.platform.notifications.models import Notification, OutboxEvent
from civicgrid.province import tasks
from civicgrid.province.models import MEASURES, DailyAggregate, DailyTotal
from civicgrid.province.publishing import publish_daily_aggregates
from civicgrid.tenants.models import Tenant
from civicgrid.tenants.selectors import ready_tenant_schemas
from tests.platform.cases.test_workflow import handler, report, staff

CATEGORY = "DSP-CONSUMER"  # a leaf other tests do not file under
TITLE, PHONE, NAME = "井盖缺失行人险些跌落", "13912345678", "赵先生"

# Every column a published row has: codes, names of categories and townships, counts.
COLUMNS = {"id", "tenant", "day", "category_code", "category_name", "category_name_en", "kind_code", "kind_name",
           "kind_name_en", "org_unit_code", "org_unit_name", *MEASURES}


def _report(**extra):
    return report(by="shangcheng_operator", category=CATEGORY, title=TITLE, source="hotline_12345",
                  reporter_phone=PHONE, reporter_name=NAME, address="解放路88号", **extra)


def _ours(day):
    return DailyAggregate.objects.filter(tenant__schema_name="shangcheng", day=day, category_code=CATEGORY)


def _rows(day):
    return sorted(DailyAggregate.objects.filter(tenant__schema_name="shangcheng", day=day).values_list(
        "category_code", "org_unit_code", *MEASURES))


def _handle(case, *, late=False):
    operator, worker = staff("shangcheng_operator"), handler("D-SAMR")
    actions.accept_case(staff=operator, case_id=case.pk)
    actions.dispatch_case(staff=operator, case_id=case.pk, department="D-SAMR")
    actions.start_case(staff=worker, case_id=case.pk)
    if late:
        Case.objects.filter(pk=case.pk).update(handle_due=timezone.now() - timedelta(minutes=5))
    return actions.handle_case(staff=worker, case_id=case.pk, result="已补装井盖")


def test_a_day_is_published_as_counts_by_category_and_township_and_nothing_personal(world):
    today = timezone.localdate()
    with tenant_context(world.shangcheng), translation.override("en"):
        on_time = _handle(_report())
        actions.rate_case(staff=staff("shangcheng_operator"), case_id=on_time.pk, rating=5)
        actions.close_case(staff=staff("shangcheng_operator"), case_id=on_time.pk)
        late = _handle(_report(), late=True)
        actions.rate_case(staff=staff("shangcheng_operator"), case_id=late.pk, rating=2)
        overdue = _report()
        Case.objects.filter(pk=overdue.pk).update(accept_due=timezone.now() - timedelta(minutes=1))
        _report()  # reported, on time, waiting
        numbers = list(Case.objects.filter(category__code=CATEGORY).values_list("number", flat=True))
        assert set(SELECTOR_MEASURES) == set(MEASURES)

    published = publish_daily_aggregates(tenant=world.shangcheng, day=today)

    row = _ours(today).get()
    assert (row.org_unit_code, row.org_unit_name, row.kind_code) == ("T01", "城东街道", "DSP")
    assert row.category_name and row.kind_name
    assert {key: getattr(row, key) for key in MEASURES} == {
        "reported": 4, "accepted": 2, "accepted_on_time": 2, "handled": 2, "handled_on_time": 1, "closed": 1,
        "rated": 2, "rating_sum": 7, "satisfied": 1, "overdue_open": 1}
    total = DailyTotal.objects.get(tenant=world.shangcheng, day=today)
    rows = DailyAggregate.objects.filter(tenant=world.shangcheng, day=today)
    for key in MEASURES:
        assert getattr(total, key) == sum(getattr(r, key) for r in rows) == published.totals[key]

    # Only codes, names of categories and townships, and counts ever reach public.
    assert {f.name for f in DailyAggregate._meta.get_fields()} == COLUMNS
    assert {f.name for f in DailyTotal._meta.get_fields()} == {"id", "tenant", "day", "published_at", *MEASURES}
    text = " ".join(str(value) for values in rows.values_list() for value in values)
    for secret in (TITLE, PHONE, NAME, "解放路", *numbers):
        assert secret not in text
    # The other county published nothing of these.
    publish_daily_aggregates(tenant=world.yuhang, day=today)
    assert not DailyAggregate.objects.filter(tenant=world.yuhang, category_code=CATEGORY).exists()


def test_publishing_again_gives_the_same_rows(world):
    today = timezone.localdate()
    with tenant_context(world.shangcheng), translation.override("en"):
        _handle(_report())
        _report()
    first = publish_daily_aggregates(tenant=world.shangcheng, day=today)
    before = _rows(today)
    second = publish_daily_aggregates(tenant=world.shangcheng, day=today)
    assert _rows(today) == before and first.totals == second.totals and first.rows == second.rows
    assert DailyTotal.objects.filter(tenant=world.shangcheng, day=today).count() == 1
    # A new fact replaces the day's rows; nothing is added beside them.
    with tenant_context(world.shangcheng), translation.override("en"):
        _report()
    publish_daily_aggregates(tenant=world.shangcheng, day=today)
    assert _ours(today).get().reported == 3
    assert DailyTotal.objects.get(tenant=world.shangcheng, day=today).reported == second.totals["reported"] + 1


def test_each_fact_stays_on_its_own_day_and_overdue_is_read_at_the_end_of_the_day(world):
    today = timezone.localdate()
    yesterday, before = today - timedelta(days=1), today - timedelta(days=2)
    at = timezone.now()
    with tenant_context(world.shangcheng), translation.override("en"):
        case = _report()
        # Reported two days ago, to be accepted by yesterday; nobody did until today.
        Case.objects.filter(pk=case.pk).update(reported_at=at - timedelta(days=2),
                                               accept_due=at - timedelta(days=1, hours=1))
        actions.accept_case(staff=staff("shangcheng_operator"), case_id=case.pk)
        snapshot_before_dispatch = daily_aggregates(today)
        actions.dispatch_case(staff=staff("shangcheng_operator"), case_id=case.pk, department="D-SAMR")

    for day in (before, yesterday, today):
        publish_daily_aggregates(tenant=world.shangcheng, day=day)
    assert _ours(before).get().reported == 1 and _ours(before).get().overdue_open == 0
    assert _ours(yesterday).get().overdue_open == 1  # still waiting at midnight, past its deadline
    assert not _ours(yesterday).get().reported
    now = _ours(today).get()
    assert (now.reported, now.accepted, now.accepted_on_time) == (0, 1, 0)
    assert now.overdue_open == 0  # dispatched: the handling clock runs, well within its time
    # Accepted late and waiting for dispatch, the light stays red, as the case list shows it.
    mine = [row for row in snapshot_before_dispatch if row["category_code"] == CATEGORY]
    assert mine[0]["overdue_open"] == 1


def test_a_day_without_cases_is_published_as_zeros(world):
    long_ago = timezone.localdate() - timedelta(days=400)
    published = publish_daily_aggregates(tenant=world.yuhang, day=long_ago)
    assert published.rows == 0 and not DailyAggregate.objects.filter(tenant=world.yuhang, day=long_ago).exists()
    total = DailyTotal.objects.get(tenant=world.yuhang, day=long_ago)
    assert all(getattr(total, key) == 0 for key in MEASURES) and total.published_at is not None
    with pytest.raises(ValueError):
        publish_daily_aggregates(tenant=world.province, day=long_ago)


def test_two_workers_publishing_at_once_leave_one_copy(committed):
    today = timezone.localdate()
    with tenant_context(committed.shangcheng), translation.override("en"):
        cases = [_report(), _report()]
    barrier, failures = threading.Barrier(2), []

    def publish():
        try:
            barrier.wait()
            publish_daily_aggregates(tenant=committed.shangcheng, day=today)
        except Exception as exc:  # noqa: BLE001 - the test reports whatever went wrong
            failures.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=publish) for _ in range(2)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert failures == []
        assert _ours(today).count() == 1 and _ours(today).get().reported == 2
        assert DailyTotal.objects.filter(tenant=committed.shangcheng, day=today).count() == 1
    finally:
        DailyAggregate.objects.filter(tenant=committed.shangcheng).delete()
        DailyTotal.objects.filter(tenant=committed.shangcheng).delete()
        with tenant_context(committed.shangcheng):
            pks = [case.pk for case in cases]
            Notification.objects.filter(case_id__in=pks).delete()
            OutboxEvent.objects.filter(payload__case_id__in=pks).delete()
            Case.objects.filter(pk__in=pks).delete()


# The beat's fan-out and its task --------------------------------------------------------------


def test_beat_sends_one_publication_per_ready_tenant_from_its_own_schema(world, monkeypatch):
    Tenant.objects.filter(pk=world.yuhang.pk).update(status=Tenant.Status.SUSPENDED)
    sent = []
    monkeypatch.setattr(tasks.publish_tenant_aggregates, "apply_async",
                        lambda **options: sent.append((connection.schema_name, options)))
    count = tasks.publish_all_aggregates.apply().get()
    schemas = [schema for schema, _options in sent]
    assert count == len(sent) and sorted(schemas) == sorted(ready_tenant_schemas())
    assert {"hangzhou", "shangcheng"} <= set(schemas) and "yuhang" not in schemas and "public" not in schemas
    assert all(options["expires"] == tasks.PUBLISH_EXPIRES_SECONDS for _schema, options in sent)


def test_the_task_publishes_yesterday_and_today_of_its_schema_and_refuses_public(world):
    today = timezone.localdate()
    with tenant_context(world.shangcheng):
        result = tasks.publish_tenant_aggregates.apply().get()
    assert result["schema"] == "shangcheng"
    assert result["days"] == [str(today - timedelta(days=1)), str(today)]
    assert set(DailyTotal.objects.filter(tenant=world.shangcheng).values_list("day", flat=True)) == {
        today - timedelta(days=1), today}
    assert not DailyTotal.objects.filter(tenant=world.yuhang).exists()
    with schema_context("public"), pytest.raises(RuntimeError, match="tenant schema"):
        tasks.publish_tenant_aggregates.apply().get()


def test_the_command_backfills_days_for_a_tenant_or_all(world):
    out = io.StringIO()
    call_command("province", "publish", "--tenant", "330102", "--days", "5", "--no-progress", stdout=out)
    assert "published 5 day(s) for 1 tenant(s)" in out.getvalue()
    assert DailyTotal.objects.filter(tenant=world.shangcheng).count() == 5
    call_command("province", "publish", "--days", "2", "--no-progress", stdout=io.StringIO())
    assert DailyTotal.objects.filter(tenant=world.yuhang).count() == 2
    assert DailyTotal.objects.filter(tenant=world.city).count() == 2
    assert DailyTotal.objects.filter(tenant=world.shangcheng).count() == 5  # the same days again, not twice


def test_a_backfill_of_the_demo_history_adds_up_to_its_cases(world):
    from civicgrid.province.demo import add_default_departments
    from civicgrid.province.demo_history import HISTORY_DAYS, seed_demo_history

    with tenant_context(world.shangcheng):
        add_default_departments({})
        seed_demo_history(world.shangcheng)
        # Facts up to now: the history moves some recent cases' later steps past the present.
        now, cases = timezone.now(), Case.objects.all()
        expected = {"reported": cases.count(), "handled": cases.filter(handled_at__lte=now).count(),
                    "closed": cases.filter(closed_at__lte=now, status="closed").count(),
                    "rated": CaseEvent.objects.filter(action="rate", created_at__lte=now).count()}
    days = HISTORY_DAYS + 3
    call_command("province", "publish", "--tenant", "shangcheng", "--days", str(days), "--no-progress",
                 stdout=io.StringIO())
    totals = DailyTotal.objects.filter(tenant=world.shangcheng)
    assert totals.count() == days
    summed = {key: sum(getattr(total, key) for total in totals) for key in expected}
    assert summed == expected
    on_time = sum(t.handled_on_time for t in totals)
    assert 0 < on_time < summed["handled"]  # the history has late ones
    # Every detail row names a category and its kind; the days add up to their totals.
    for total in totals.filter(reported__gt=0)[:5]:
        rows = DailyAggregate.objects.filter(tenant=world.shangcheng, day=total.day)
        assert sum(row.reported for row in rows) == total.reported
        assert all(row.category_code and row.kind_code for row in rows)
