"""``civicgrid search``: reindex rebuilds a tenant's documents (written by a thread
of its own when nothing else holds the transaction), status tells the backend's
health and each tenant's documents and queue."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django_tenants.utils import tenant_context

from civicgrid.platform.cases.models import Case
from civicgrid.platform.notifications.models import OutboxEvent
from civicgrid.search.backends.postgres import PostgresBackend
from civicgrid.search.models import CaseDocument, IndexQueue
from tests.search.helpers import report


def run(*args) -> str:
    out = StringIO()
    call_command("search", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_reindex_writes_every_case_of_the_tenant_and_status_counts_them(world):
    with tenant_context(world.shangcheng):
        cases = [report(f"重建索引测试 {n}", "路边积水") for n in range(3)]  # not indexed: no relay ran
        assert not CaseDocument.objects.filter(case__in=cases).exists()
    said = run("reindex", "--tenant", "shangcheng", "--no-progress")
    with tenant_context(world.shangcheng):
        assert set(CaseDocument.objects.values_list("case_id", flat=True)) == set(
            Case.objects.values_list("pk", flat=True))
        total = Case.objects.count()
    assert said.startswith(f"shangcheng: {total} cases in ")
    status = run("status", "--tenant", "shangcheng")
    assert "backend postgres: ok" in status and f"shangcheng: documents={total} waiting=" in status


def test_reindex_refuses_an_unknown_tenant(world):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        run("reindex", "--tenant", "nowhere", "--no-progress")


@pytest.mark.slow
def test_a_reindex_outside_a_transaction_writes_from_its_own_thread(committed):
    with tenant_context(committed.shangcheng):
        cases = [report(f"线程重建测试 {n}", "楼道堆物") for n in range(5)]
    try:
        said = run("reindex", "--tenant", "shangcheng", "--no-progress")
        with tenant_context(committed.shangcheng):
            assert PostgresBackend().count("shangcheng") == Case.objects.count()
            assert CaseDocument.objects.filter(case__in=cases).count() == 5
        assert said.startswith("shangcheng: ")
    finally:
        with tenant_context(committed.shangcheng):
            ids = [case.pk for case in cases]
            OutboxEvent.objects.filter(payload__case_id__in=ids).delete()
            IndexQueue.objects.filter(case_id__in=ids).delete()
            Case.objects.filter(pk__in=ids).delete()
