"""The plugin core: discovery, activation per tenant, hooks through the tenant's
active subset, guarded URLs, metering and statements."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime, timedelta
from decimal import Decimal
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django.utils import translation
from django_tenants.utils import tenant_context

from civicgrid.platform.accounts.actions import create_staff_member
from civicgrid.platform.accounts.staff.models import StaffRole
from civicgrid.platform.audit.models import AuditEntry
from civicgrid.platform.cases.models import Category
from civicgrid.platform.notifications.outbox import relay
from civicgrid.platform.registry.models import CareKind
from civicgrid.plugins import actions, billing, discovery, meter
from civicgrid.plugins.catalog import sync_catalog
from civicgrid.plugins.channels import deliver_unread
from civicgrid.plugins.manager import savepoint_per_plugin, tenant_hooks
from civicgrid.plugins.metering import MeteringError
from civicgrid.plugins.models import Activation, CatalogEntry, Statement, UsageRecord
from civicgrid.plugins.tasks import run_plugin_jobs
from civicgrid.plugins.types import CaseEvent
from civicgrid.tenants.models import Tenant
from tests.conftest import child_env
from tests.platform.cases.test_workflow import report

ROUTES_COVERED = {"sample:heard": "test_a_switched_off_plugins_pages_and_api_answer_404",
                  "api-sample:heard": "test_a_switched_off_plugins_pages_and_api_answer_404",
                  "api-sample:events": "test_a_vendors_api_takes_tokens_with_the_scope_the_framework_declares",
                  "sample:events": "test_a_vendors_api_takes_tokens_with_the_scope_the_framework_declares"}
SHANGCHENG, YUHANG = "shangcheng.localhost", "yuhang.localhost"
CST = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def published(world):
    sync_catalog()
    actions.publish_plugin(plugin_id="sample", published=True, acting_user=None)
    actions.publish_plugin(plugin_id="other", published=True, acting_user=None)
    return world


def heard():
    from sample_plugin.models import HeardEvent

    return HeardEvent.objects


# --- discovery --------------------------------------------------------------------------


def test_broken_and_incompatible_plugins_are_listed_with_the_reason_and_stay_out(world):
    found = {p.id: p for p in settings.PLUGINS.plugins}
    assert found["sample"].loaded and found["other"].loaded
    assert "failed to import: ImportError" in found["broken"].problem
    assert found["future"].problem == "needs CivicGrid >=99, this installation is 0.1.0"
    assert "sample_plugin.apps.SampleConfig" in settings.TENANT_APPS
    assert not any("broken" in app or "future" in app for app in settings.INSTALLED_APPS)
    entries = {e.plugin_id: e for e in sync_catalog()}
    assert not entries["future"].installed and "needs CivicGrid >=99" in entries["future"].problem
    assert entries["sample"].installed and entries["sample"].problem == ""
    assert entries["sample"].vendor.code == "sample-vendor" and entries["sample"].version == "1.2.0"


def test_start_up_goes_on_with_a_broken_plugin_installed():
    """A fresh process with the broken plugin on its path: `check` passes, the reason is logged."""
    done = subprocess.run([sys.executable, "-m", "civicgrid.cli", "check"], env=child_env(), capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "plugin broken stays inactive: failed to import" in done.stderr


def test_allow_and_deny_lists_come_first():
    allowed = discovery._discover(allow={"sample"}, deny=set())
    problems = {p.id: p.problem for p in allowed.plugins}
    assert problems["sample"] == "" and "allow list" in problems["other"]
    denied = discovery._discover(allow=set(), deny={"sample"})
    assert "deny list" in {p.id: p.problem for p in denied.plugins}["sample"]


def test_an_incompatible_plugin_cannot_be_switched_on(published):
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        actions.enable_plugin(tenant=published.shangcheng, plugin_id="future", acting_user=None)
    assert "needs CivicGrid >=99, this installation is 0.1.0" in refused.value.messages[0]
    assert Tenant.objects.get(pk=published.shangcheng.pk).active_plugins == []
    assert not Activation.objects.exists()


def test_an_unpublished_plugin_cannot_be_switched_on(world):
    sync_catalog()
    with translation.override("en"), pytest.raises(ValidationError, match="not published"):
        actions.enable_plugin(tenant=world.shangcheng, plugin_id="sample", acting_user=None)


# --- activation ----------------------------------------------------------------------


def test_switching_on_in_one_tenant_changes_nothing_in_another(published):
    admin = published.user("shangcheng_admin")
    actions.enable_plugin(tenant=published.shangcheng, plugin_id="sample", acting_user=admin)
    assert Tenant.objects.get(pk=published.shangcheng.pk).active_plugins == ["sample"]
    assert Tenant.objects.get(pk=published.yuhang.pk).active_plugins == []
    with tenant_context(published.shangcheng):
        leak = Category.objects.get(code="SMP-LEAK")
        assert leak.is_active and leak.parent.code == "SMP" and leak.urgency == "urgent"
        assert CareKind.objects.filter(code="sample_watch").exists()
        assert heard().filter(hook="seed").count() == 1
        assert AuditEntry.objects.filter(action="plugin.enable", actor_id=admin.pk).count() == 1
    with tenant_context(published.yuhang):
        assert not Category.objects.filter(code__startswith="SMP").exists()
        assert not CareKind.objects.filter(code="sample_watch").exists()
        assert not heard().exists()  # the table exists in every schema; only activation fills it
        assert not AuditEntry.objects.filter(action="plugin.enable").exists()


def test_switched_off_its_categories_go_off_and_its_data_stays_then_all_comes_back(published):
    tenant = published.shangcheng
    actions.enable_plugin(tenant=tenant, plugin_id="sample", acting_user=None)
    actions.disable_plugin(tenant=tenant, plugin_id="sample", acting_user=None)
    assert Tenant.objects.get(pk=tenant.pk).active_plugins == []
    with tenant_context(tenant):
        assert not Category.objects.get(code="SMP-LEAK").is_active
        assert heard().filter(hook="seed").count() == 1
    actions.enable_plugin(tenant=tenant, plugin_id="sample", acting_user=None)
    with tenant_context(tenant):
        assert Category.objects.get(code="SMP-LEAK").is_active
        assert heard().filter(hook="seed").count() == 1  # the seed hook is idempotent
        assert list(AuditEntry.objects.filter(action__startswith="plugin.").order_by("id")
                    .values_list("action", flat=True)) == ["plugin.enable", "plugin.disable", "plugin.enable"]
    with translation.override("en"), pytest.raises(ValidationError, match="not switched on"):
        actions.disable_plugin(tenant=published.yuhang, plugin_id="sample", acting_user=None)


def test_a_switched_off_plugins_pages_and_api_answer_404(published):
    actions.enable_plugin(tenant=published.shangcheng, plugin_id="sample", acting_user=None)
    for url in ("/p/sample/heard/", "/api/v1/p/sample/heard/"):
        assert Client(HTTP_HOST=SHANGCHENG).get(url).json()["tenant"] == "shangcheng"
        assert Client(HTTP_HOST=YUHANG).get(url).status_code == 404
        assert Client(HTTP_HOST=YUHANG).post(url).status_code == 404
        assert Client(HTTP_HOST="localhost").get(url).status_code == 404
    with tenant_context(published.yuhang):
        assert not heard().exists()  # the refused POST ran nothing
    actions.disable_plugin(tenant=published.shangcheng, plugin_id="sample", acting_user=None)
    assert Client(HTTP_HOST=SHANGCHENG).get("/p/sample/heard/").status_code == 404
    assert Client(HTTP_HOST=SHANGCHENG).get("/api/v1/p/sample/heard/").status_code == 404
    actions.enable_plugin(tenant=published.shangcheng, plugin_id="sample", acting_user=None)
    assert Client(HTTP_HOST=SHANGCHENG).get("/p/sample/heard/").status_code == 200


def test_a_vendors_api_takes_tokens_with_the_scope_the_framework_declares(published):
    """The framework, not the vendor's view, declares the scope: module:sample (read for GET,
    write otherwise). The view's own claim to the core's cases scope counts for nothing."""
    from tests.platform.security.test_api_tokens import bearer, issue

    url = "/api/v1/p/sample/events/"
    actions.enable_plugin(tenant=published.shangcheng, plugin_id="sample", acting_user=None)

    def events() -> int:
        with tenant_context(published.shangcheng):
            return heard().filter(hook="api").count()

    _row, core = issue(published, "cases:read", "cases:write")
    for mounted in (url, "/p/sample/events/"):  # the same view among the console's pages
        refused = bearer(core).get(mounted)
        assert refused.status_code == 403 and "module:sample:read" in refused.json()["detail"]
        assert bearer(core).post(mounted).status_code == 403
    _row, reader = issue(published, "module:sample:read")
    assert bearer(reader).get(url).status_code == 200 and bearer(reader).get("/p/sample/events/").status_code == 200
    refused = bearer(reader).post(url)
    assert refused.status_code == 403 and "module:sample:write" in refused.json()["detail"]
    assert events() == 0
    _row, writer = issue(published, "module:sample:read", "module:sample:write")
    assert bearer(writer).post(url).status_code == 201 and events() == 1
    # Another county's token, with the plugin on there too: unknown here.
    connection.set_schema_to_public()  # the requests left the connection in 上城区's schema
    actions.enable_plugin(tenant=published.yuhang, plugin_id="sample", acting_user=None)
    _row, other = issue(published, "module:sample:read", "module:sample:write", user="yuhang_operator",
                        tenant=published.yuhang)
    assert bearer(other).post(url).status_code == 401 and bearer(writer, YUHANG).get(url).status_code == 401
    assert bearer(other, YUHANG).get(url).status_code == 200
    # Switched off here: not found, whatever the token; the scope is no longer offered.
    connection.set_schema_to_public()
    actions.disable_plugin(tenant=published.shangcheng, plugin_id="sample", acting_user=None)
    assert bearer(writer).post(url).status_code == 404 and events() == 1
    with pytest.raises(ValidationError):
        issue(published, "module:sample:read")


def test_new_tenants_get_the_plugins_the_province_gives_them(published):
    from civicgrid.province.onboarding import onboard_tenant

    actions.publish_plugin(plugin_id="sample", published=True, for_new_tenants=True, acting_user=None)
    tenant = onboard_tenant(name="西湖区", division_code="330106", level="county", parent_code="330100",
                            domain="xihu.localhost", admin_password="x" * 12, acting_user=None).tenant
    assert Tenant.objects.get(pk=tenant.pk).active_plugins == ["sample"]
    with tenant_context(tenant):
        assert Category.objects.get(code="SMP-LEAK").is_active and heard().filter(hook="seed").exists()


# --- hooks ------------------------------------------------------------------------


def test_hooks_run_only_for_the_plugins_on_in_the_tenant(published):
    import sample_other.hooks

    sample_other.hooks.CALLS.clear()
    actions.enable_plugin(tenant=published.shangcheng, plugin_id="sample", acting_user=None)
    event = CaseEvent(schema="shangcheng", case_id=1, number="X-1", action="close", status="closed", version=3)
    with tenant_context(published.shangcheng):
        assert tenant_hooks().active == {"sample"}
        tenant_hooks().civicgrid_case_transitioned(event=event)
        assert heard().filter(hook="transitioned", case_number="X-1").count() == 1
    assert sample_other.hooks.CALLS == []
    with tenant_context(published.yuhang):
        assert tenant_hooks().active == frozenset()
        assert tenant_hooks().civicgrid_case_transitioned(event=event) == []
    actions.enable_plugin(tenant=published.shangcheng, plugin_id="other", acting_user=None)
    with tenant_context(published.shangcheng):
        hooks = tenant_hooks()
        assert hooks.active == {"sample", "other"}
        with savepoint_per_plugin():
            hooks.civicgrid_case_closed(event=event)  # other's fails in the database: logged, undone alone
        assert heard().filter(hook="closed", case_number="X-1").count() == 1  # the transaction goes on


def test_a_misspelt_hook_keeps_the_plugin_out_with_the_reason():
    import types

    import pluggy

    from civicgrid.plugins import hookimpl
    from civicgrid.plugins.hookspecs import PROJECT, CivicGridSpec
    from civicgrid.plugins.manager import _problems, _register

    module = types.ModuleType("typo_plugin_hooks")
    module.civicgrid_case_closd = hookimpl(lambda event: None)
    sys.modules["typo_plugin_hooks"] = module
    config = types.SimpleNamespace(required_settings=(), hooks_module_path=lambda: "typo_plugin_hooks")
    manager = pluggy.PluginManager(PROJECT)
    manager.add_hookspecs(CivicGridSpec)
    try:
        _register(manager, "typo", config)
        assert not manager.has_plugin("typo")
        assert _problems.pop("typo") == "hooks not in the specification: civicgrid_case_closd"
    finally:
        del sys.modules["typo_plugin_hooks"]


def unread_for_too_long() -> datetime:
    from django.utils import timezone

    return timezone.now() + timedelta(seconds=settings.CIVICGRID_NOTIFY_UNREAD_AFTER + 1)


def test_a_reported_case_reaches_the_plugin_after_commit_and_only_in_its_tenant(published):
    import sample_plugin.hooks

    sample_plugin.hooks.DELIVERED.clear()
    actions.enable_plugin(tenant=published.shangcheng, plugin_id="sample", acting_user=None)
    with tenant_context(published.shangcheng):
        create_staff_member(username="sc_operator_2", password="x" * 12, role=StaffRole.COMMAND_OPERATOR,
                            acting_user=None)
        case = report(by="shangcheng_operator", source="hotline_12345")  # the other operator hears of it
        assert not heard().filter(case_number=case.number).exists()  # nothing inside the transaction
        relay()
        assert set(heard().filter(case_number=case.number).values_list("hook", flat=True)) == {
            "reported", "transitioned"}
        usage = UsageRecord.objects.get(plugin_id="sample", idempotency_key=f"reported:{case.pk}")
        assert usage.metric == "check" and usage.tenant_id == published.shangcheng.pk
        from civicgrid.platform.notifications.models import Notification

        sent = set(Notification.objects.filter(case=case).values_list("pk", flat=True))
        # Channels get what stays unread: nothing yet, then everything once its time is up.
        assert sent and deliver_unread() == 0 and not sample_plugin.hooks.DELIVERED
        assert deliver_unread(now=unread_for_too_long()) == len(sent)
        assert {pk for schema, pk in sample_plugin.hooks.DELIVERED if schema == "shangcheng"} == sent
    with tenant_context(published.yuhang):
        other = report(by="yuhang_operator", source="hotline_12345", latitude=None, longitude=None, address="余杭区某街道")
        relay()
        assert deliver_unread(now=unread_for_too_long()) == 0
        assert not heard().filter(case_number=other.number).exists()
    assert all(schema == "shangcheng" for schema, _ in sample_plugin.hooks.DELIVERED)
    assert not UsageRecord.objects.filter(tenant=published.yuhang).exists()


def test_periodic_jobs_run_once_per_interval_where_the_plugin_is_on(published):
    import sample_plugin.hooks

    sample_plugin.hooks.JOBS_RUN.clear()
    actions.enable_plugin(tenant=published.shangcheng, plugin_id="sample", acting_user=None)
    for tenant in (published.shangcheng, published.yuhang):
        with tenant_context(tenant):
            cache.delete("plugin-job:sample:tick")
    try:
        with tenant_context(published.shangcheng):
            assert run_plugin_jobs.run() == ["sample:tick"]
            assert run_plugin_jobs.run() == []
        with tenant_context(published.yuhang):
            assert run_plugin_jobs.run() == []
        assert sample_plugin.hooks.JOBS_RUN == ["shangcheng"]
    finally:
        with tenant_context(published.shangcheng):
            cache.delete("plugin-job:sample:tick")


# --- metering ----------------------------------------------------------------------


def test_a_repeated_idempotency_key_counts_once_per_tenant(published):
    for tenant in (published.shangcheng, published.yuhang):
        actions.enable_plugin(tenant=tenant, plugin_id="sample", acting_user=None)
    with tenant_context(published.shangcheng):
        assert meter("check", 2, idempotency_key="job-1", plugin="sample") is True
        assert meter("check", 2, idempotency_key="job-1", plugin="sample") is False
    with tenant_context(published.yuhang):
        assert meter("check", 2, idempotency_key="job-1", plugin="sample") is True
    assert UsageRecord.objects.filter(idempotency_key="job-1").count() == 2
    assert UsageRecord.objects.get(tenant=published.shangcheng, idempotency_key="job-1").quantity == 2


def test_metering_refuses_what_it_may_not_count(published):
    actions.enable_plugin(tenant=published.shangcheng, plugin_id="sample", acting_user=None)
    with tenant_context(published.shangcheng):
        with pytest.raises(MeteringError, match="declares no meter"):
            meter("sms", idempotency_key="a", plugin="sample")
        with pytest.raises(MeteringError, match="more than zero"):
            meter("check", 0, idempotency_key="b", plugin="sample")
        with pytest.raises(MeteringError, match="idempotency_key"):
            meter("check", idempotency_key="", plugin="sample")
        with pytest.raises(MeteringError, match="plugin code"):
            meter("check", idempotency_key="c")  # called from the core's tests, not from a plugin
    with tenant_context(published.yuhang), pytest.raises(MeteringError, match="switched off"):
        meter("check", idempotency_key="d", plugin="sample")
    connection.set_schema_to_public()
    with pytest.raises(MeteringError, match="needs a tenant"):
        meter("check", idempotency_key="e", plugin="sample")
    assert not UsageRecord.objects.exists()


# --- statements ----------------------------------------------------------------------


def _usage(tenant, metric, quantity, at, key):
    UsageRecord.objects.create(tenant=tenant, plugin_id="sample", metric=metric, quantity=quantity, at=at,
                               idempotency_key=key)


def test_statement_arithmetic_to_the_fen(published):
    tenant = published.shangcheng
    october = datetime(2026, 10, 15, 10, tzinfo=CST)
    _usage(tenant, "check", 250, october, "c1")  # 100 free, 150 × 0.05 = 7.50
    _usage(tenant, "photo", 3, october, "p1")  # 3 × 0.3333 = 0.9999 -> 1.00
    _usage(tenant, "photo", 1, datetime(2026, 10, 31, 23, 30, tzinfo=CST), "p2")  # still October here
    _usage(tenant, "photo", 7, datetime(2026, 11, 1, 0, 10, tzinfo=CST), "p3")  # November
    made = billing.make_statements(date(2026, 10, 1))
    statement = Statement.objects.get(tenant=tenant, plugin__plugin_id="sample", period=date(2026, 10, 1))
    lines = {line.meter: line for line in statement.lines.all()}
    assert lines["check"].billable == 150 and lines["check"].amount == Decimal("7.50")
    assert lines["photo"].quantity == 4 and lines["photo"].amount == Decimal("1.33")  # 4 × 0.3333 = 1.3332
    assert statement.total == Decimal("8.83") and statement.currency == "CNY"
    assert statement.vendor.code == "sample-vendor"
    assert [s.pk for s in made] == [statement.pk]
    billing.make_statements(date(2026, 10, 20))  # again: the same statement, no second one
    assert Statement.objects.filter(tenant=tenant, period=date(2026, 10, 1)).count() == 1
    assert Statement.objects.get(pk=statement.pk).total == Decimal("8.83")


def test_rounding_is_half_up_per_line_and_the_price_on_the_last_day_bills(published):
    actions.set_price(plugin_id="sample", meter="photo", unit_price="0.0050", free=0,
                      effective_from=date(2026, 9, 30), acting_user=None)
    actions.set_price(plugin_id="sample", meter="photo", unit_price="0.0150", free=2,
                      effective_from=date(2026, 10, 31), acting_user=None)
    _usage(published.shangcheng, "photo", 3, datetime(2026, 10, 2, 9, tzinfo=CST), "p")
    statement = billing.make_statements(date(2026, 10, 1))[0]
    photo = statement.lines.get(meter="photo")
    assert (photo.free, photo.billable, photo.unit_price) == (2, 1, Decimal("0.0150"))
    assert photo.amount == Decimal("0.02")  # 0.015 rounds half up
    september = billing.statement_lines(statement.plugin, {"photo": Decimal(1)}, date(2026, 9, 30))
    assert [line.amount for line in september if line.meter == "photo"] == [Decimal("0.01")]  # 0.005 -> 0.01


def test_a_billed_month_keeps_its_price(published):
    _usage(published.shangcheng, "check", 300, datetime(2026, 10, 2, 9, tzinfo=CST), "c")
    billing.make_statements(date(2026, 10, 1))
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        actions.set_price(plugin_id="sample", meter="check", unit_price="9", free=0,
                          effective_from=date(2026, 10, 31), acting_user=None)
    assert refused.value.message_dict["effective_from"] == [
        "2026-10 is already billed: a new price can start from 2026-11-01 on."]
    actions.set_price(plugin_id="sample", meter="check", unit_price="9", free=0, effective_from=date(2026, 11, 1),
                      acting_user=None)
    assert billing.make_statements(date(2026, 10, 1))[0].total == Decimal("10.00")  # 200 × 0.05, unchanged


def test_bad_prices_are_refused_and_change_nothing(published):
    before = list(CatalogEntry.objects.get(plugin_id="sample").prices.values_list("pk", "unit_price"))
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        actions.set_price(plugin_id="sample", meter="nope", unit_price="-1", free="x",
                          effective_from=date(2026, 11, 1), acting_user=None)
    assert set(refused.value.message_dict) == {"meter", "unit_price", "free"}
    assert list(CatalogEntry.objects.get(plugin_id="sample").prices.values_list("pk", "unit_price")) == before


# --- the command line ------------------------------------------------------------------


def test_the_command_lists_switches_and_bills(published):
    out = StringIO()
    call_command("plugins", "list", stdout=out)
    lines = {line.split("\t")[0]: line for line in out.getvalue().splitlines()}
    assert "refused: failed to import" in lines["broken"] and "published" in lines["sample"]
    call_command("plugins", "enable", "sample", "--tenant", "shangcheng", stdout=StringIO())
    assert Tenant.objects.get(schema_name="shangcheng").active_plugins == ["sample"]
    out = StringIO()
    call_command("plugins", "list", "--tenant", "330102", stdout=out)
    assert "\ton" in {line.split("\t")[0]: line for line in out.getvalue().splitlines()}["sample"]
    with tenant_context(Tenant.objects.get(schema_name="shangcheng")):
        meter("check", 101, idempotency_key="cli", plugin="sample")
    out = StringIO()
    call_command("plugins", "statements", "--month", f"{date.today():%Y-%m}", stdout=out)
    assert "shangcheng\tsample\t0.05 CNY" in out.getvalue()
    call_command("plugins", "disable", "sample", "--tenant", "shangcheng", stdout=StringIO())
    assert Tenant.objects.get(schema_name="shangcheng").active_plugins == []
    with pytest.raises(CommandError, match="no tenant"):
        call_command("plugins", "enable", "sample", "--tenant", "nowhere")
    with pytest.raises(CommandError, match="YYYY-MM"):
        call_command("plugins", "statements", "--month", "2026-13")


def test_a_plugins_tasks_do_nothing_where_it_is_switched_off(published):
    from sample_plugin.tasks import note

    actions.enable_plugin(tenant=published.shangcheng, plugin_id="sample", acting_user=None)
    with tenant_context(published.shangcheng):
        assert note.apply(args=["on"]).get() == 1
    with tenant_context(published.yuhang):
        assert note.apply(args=["off"]).get() is None
        assert not heard().filter(hook="task").exists()


def test_plugin_code_outside_a_hook_meters_as_its_own_plugin(published):
    from sample_plugin.usage import count_check

    actions.enable_plugin(tenant=published.shangcheng, plugin_id="sample", acting_user=None)
    with tenant_context(published.shangcheng):
        assert count_check("outside-1") is True and count_check("outside-1") is False
    assert UsageRecord.objects.get(idempotency_key="outside-1").plugin_id == "sample"


def test_a_plugin_switched_off_and_on_again_is_billed_as_on(published):
    tenant = published.shangcheng
    for switch in (actions.enable_plugin, actions.disable_plugin, actions.enable_plugin):
        switch(tenant=tenant, plugin_id="sample", acting_user=None)
    assert Activation.objects.get(tenant=tenant).disabled_at is None
    next_month = billing.next_month(billing.month_of(date.today()))
    made = billing.make_statements(next_month)  # no use yet: a statement of 0.00, as for any plugin on
    assert [(s.tenant_id, s.plugin.plugin_id, s.total) for s in made] == [(tenant.pk, "sample", Decimal("0.00"))]
