"""What only the PostgreSQL backend does: documents in monthly partitions made as
months arrive, the newest months read first, and at most ``COUNT_LIMIT`` matches
read, counted and ranked (the total then says "at least")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from civicgrid.platform.cases.models import Case
from civicgrid.platform.cases.selectors import CaseScope
from civicgrid.search.backends import postgres
from civicgrid.search.backends.postgres import PostgresBackend, partitions
from civicgrid.search.indexing import queue_cases
from civicgrid.search.query import SearchFilters, SearchRequest
from tests.search.helpers import index_now, report

EVERYTHING = CaseScope(everything=True)


@pytest.fixture
def sc(world):
    with tenant_context(world.shangcheng):
        yield world


def reported_months_ago(case: Case, months: int) -> Case:
    """Backdate a case (an import of older cases would bring such dates): no action moves
    ``reported_at``, so the test sets it, then queues the case as the outbox would."""
    moment = timezone.now() - timedelta(days=31 * months)
    Case.objects.filter(pk=case.pk).update(reported_at=moment)
    queue_cases([case.pk])
    case.reported_at = moment
    return case


def ask(text, **filters):
    return PostgresBackend().search("shangcheng", SearchRequest(
        text=text, scope=EVERYTHING, filters=SearchFilters(**filters), now=timezone.now()))


def month_partition(moment: datetime) -> str:
    return f"search_casedocument_p{moment.astimezone(UTC):%Y%m}"


def test_each_month_gets_its_partition_and_a_date_filter_skips_the_others(sc):
    new = report("井盖破损 本月")
    old = reported_months_ago(report("井盖破损 去年"), 13)
    index_now()
    with connection.cursor() as cursor:
        made = set(partitions(cursor))
    assert {month_partition(new.reported_at), month_partition(old.reported_at)} <= made
    assert [hit.case_id for hit in ask("井盖破损").hits] == [new.pk, old.pk]  # equal rank: the newer first
    assert [hit.case_id for hit in ask("井盖破损", reported_after=timezone.now() - timedelta(days=7)).hits] == [
        new.pk]
    assert [hit.case_id for hit in ask("井盖破损", reported_before=timezone.now() - timedelta(days=300)).hits] == [
        old.pk]


def test_past_the_count_limit_the_newest_matches_are_counted_and_ranked(sc, monkeypatch):
    monkeypatch.setattr(postgres, "COUNT_LIMIT", 3)
    cases = [reported_months_ago(report(f"路面塌陷 {n}"), months) for n, months in enumerate((0, 1, 2, 3, 4))]
    title_match_but_old = reported_months_ago(report("其他问题", "路面塌陷 在描述里"), 0)
    index_now()
    found = ask("路面塌陷")
    assert found.total == 3 and not found.total_is_exact
    assert sum(found.facets["status"].values()) == 3  # the facets count what was read
    # The newest three matches were read; among them the titles rank above the description.
    newest = sorted([*cases, title_match_but_old], key=lambda c: c.reported_at, reverse=True)[:3]
    assert {hit.case_id for hit in found.hits} == {c.pk for c in newest}
    assert found.hits[-1].case_id == title_match_but_old.pk
    # Narrowed below the limit, the count is exact again.
    narrowed = ask("路面塌陷", reported_before=timezone.now() - timedelta(days=80))
    assert narrowed.total == 2 and narrowed.total_is_exact


def test_a_search_with_no_partition_yet_finds_nothing_quietly(sc):
    with tenant_context(sc.yuhang):
        found = PostgresBackend().search("yuhang", SearchRequest(text="路灯", scope=EVERYTHING, now=timezone.now()))
    assert found.total == 0 and found.hits == []


@pytest.mark.slow
def test_a_new_months_partition_does_not_wait_for_an_action_holding_a_case(committed):
    """The first document of a month makes its partition inside the indexer's transaction;
    with a foreign key to the cases that took a lock on the case table and deadlocked with
    an action holding a case row. Both must finish."""
    import threading
    import time

    from django.db import transaction

    from civicgrid.search.indexing import drain
    from civicgrid.search.models import IndexQueue

    with tenant_context(committed.shangcheng):
        case = reported_months_ago(report("分区死锁测试"), 12 * 7)  # a month nobody indexed yet
    outcome, held = {}, threading.Event()

    def action():
        try:
            with tenant_context(committed.shangcheng), transaction.atomic():
                row = Case.objects.select_for_update(of=("self",)).get(pk=case.pk)
                held.set()
                time.sleep(1.0)  # the indexer starts meanwhile
                row.version += 1
                row.save(update_fields=["version"])
            outcome["action"] = "committed"
        except Exception as exc:  # noqa: BLE001 -- the outcome is the assertion
            outcome["action"] = repr(exc)
        finally:
            connection.close()

    def indexer():
        held.wait(10)
        try:
            with tenant_context(committed.shangcheng):
                outcome["drain"] = drain()
        except Exception as exc:  # noqa: BLE001
            outcome["drain"] = repr(exc)
        finally:
            connection.close()

    try:
        threads = [threading.Thread(target=action), threading.Thread(target=indexer)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert outcome["action"] == "committed" and isinstance(outcome["drain"], int), outcome
        with tenant_context(committed.shangcheng), connection.cursor() as cursor:
            assert month_partition(case.reported_at) in partitions(cursor)
    finally:
        with tenant_context(committed.shangcheng):
            from civicgrid.platform.notifications.models import OutboxEvent

            OutboxEvent.objects.filter(payload__case_id=case.pk).delete()
            IndexQueue.objects.filter(case_id=case.pk).delete()
            Case.objects.filter(pk=case.pk).delete()
            PostgresBackend().delete("shangcheng", [case.pk])
