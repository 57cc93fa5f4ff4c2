"""A county's month with Acme SMS, as CivicGrid's suite runs it after pip-installing
the distribution: the catalog lists it, the province publishes it, shangcheng
switches it on and yuhang does not; grid workers report in both; the outbox
relay texts shangcheng's people only, counts each text once, and the month's
statement bills them at the province's price."""

from __future__ import annotations

import os
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from importlib import metadata
from pathlib import Path
from urllib.parse import urlsplit

import acme_sms
from acme_helpers import FakeGateway, grid_worker_heard_by_a_community_operator, report_by
from acme_sms.actions import register_phone
from acme_sms.models import SmsMessage
from django.conf import settings
from django.utils import timezone
from django_tenants.utils import tenant_context

from civicgrid.platform.accounts.staff.models import StaffProfile
from civicgrid.platform.notifications.models import Notification, OutboxEvent
from civicgrid.platform.notifications.outbox import relay
from civicgrid.plugins import actions, billing
from civicgrid.plugins.catalog import sync_catalog
from civicgrid.plugins.channels import deliver_unread
from civicgrid.plugins.models import Statement, UsageRecord

PHONE_PREFIX = {"shangcheng": "1381000", "yuhang": "1392000"}  # + 4 digits: 11-digit mobiles
CASES = 3
UNIT_PRICE, FREE = Decimal("0.0450"), 1


def test_the_installed_distribution_is_the_code_that_runs():
    distribution = metadata.distribution("civicgrid-acme-sms")
    [entry_point] = [ep for ep in distribution.entry_points if ep.group == "civicgrid.plugins"]
    assert (entry_point.name, entry_point.value) == ("acme_sms", "acme_sms.apps:AcmeSmsConfig")
    assert Path(distribution.locate_file("acme_sms/__init__.py")).resolve() == Path(acme_sms.__file__).resolve()
    found = {p.id: p for p in settings.PLUGINS.plugins}["acme_sms"]
    assert found.loaded and found.app_path == "acme_sms.apps.AcmeSmsConfig" and found.version == "0.1.0"


def unread_for_too_long():
    return timezone.now() + timedelta(seconds=settings.CIVICGRID_NOTIFY_UNREAD_AFTER + 1)


def test_a_month_of_texts_in_the_county_that_switched_it_on_and_none_elsewhere(world):
    prov_admin = world.user("prov_admin")
    endpoint = os.environ["ACME_SMS_ENDPOINT"]  # set before start-up, as an installation sets it
    with FakeGateway(port=urlsplit(endpoint).port) as gateway:
        entry = {e.plugin_id: e for e in sync_catalog()}["acme_sms"]
        assert entry.installed and entry.problem == "" and not entry.published
        assert (entry.vendor.code, entry.vendor.name, entry.version) == ("acme", "Acme 通信有限公司", "0.1.0")
        assert entry.meters == [{"id": "sms", "unit": "条", "name": "短信", "name_en": "SMS message"}]

        actions.publish_plugin(plugin_id="acme_sms", published=True, acting_user=prov_admin)
        actions.enable_plugin(tenant=world.shangcheng, plugin_id="acme_sms",
                              acting_user=world.user("shangcheng_admin"))
        month = timezone.localdate().replace(day=1)
        actions.set_price(plugin_id="acme_sms", meter="sms", unit_price=UNIT_PRICE, free=FREE,
                          effective_from=month, acting_user=prov_admin)

        notified, phones = {}, {}
        for tenant in (world.shangcheng, world.yuhang):
            with tenant_context(tenant):
                worker = grid_worker_heard_by_a_community_operator()
                phones[tenant.schema_name] = set()
                for i, profile in enumerate(StaffProfile.objects.filter(is_active=True).select_related("user")):
                    phone = f"{PHONE_PREFIX[tenant.schema_name]}{i:04d}"
                    register_phone(profile.user, phone)
                    phones[tenant.schema_name].add(phone)
                before = len(gateway.requests)
                cases = [report_by(worker, title=f"楼道堆放杂物 {n}") for n in range(CASES)]
                notified[tenant.schema_name] = Notification.objects.filter(case__in=cases).count()
                assert len(gateway.requests) == before  # nothing is sent from inside the report
                relay()
                assert len(gateway.requests) == before  # nor to someone who may still read it
                deliver_unread(now=unread_for_too_long())

        texts = notified["shangcheng"]
        assert texts >= CASES and notified["yuhang"] >= CASES  # both counties notified their people
        assert len(gateway.requests) == texts  # ... only shangcheng's were texted
        assert {r.body["to"] for r in gateway.requests} <= phones["shangcheng"]
        assert all(r.body["reference"].startswith("shangcheng-") for r in gateway.requests)
        assert all(r.headers["Authorization"] == "Bearer " + os.environ["ACME_SMS_API_KEY"] for r in gateway.requests)
        with tenant_context(world.shangcheng):
            assert SmsMessage.objects.filter(status=SmsMessage.Status.SENT).count() == texts
        with tenant_context(world.yuhang):
            assert not SmsMessage.objects.exists()
        usage = UsageRecord.objects.filter(plugin_id="acme_sms", metric="sms")
        assert usage.count() == texts and set(usage.values_list("tenant_id", flat=True)) == {world.shangcheng.pk}

        # Relaying and handing over again sends nothing; nor does the same events' redelivery
        # (a relay that died before marking them delivered), nor a channel run that died
        # before marking what it handed over.
        for tenant in (world.shangcheng, world.yuhang):
            with tenant_context(tenant):
                assert relay() == 0 and deliver_unread(now=unread_for_too_long()) == 0
                OutboxEvent.objects.filter(topic="case.report").update(delivered_at=None)
                assert relay() == CASES
                Notification.objects.update(channelled_at=None)
                deliver_unread(now=unread_for_too_long())
        assert len(gateway.requests) == texts and usage.count() == texts

    billing.make_statements(timezone.localdate())
    statement = Statement.objects.get(tenant=world.shangcheng, plugin__plugin_id="acme_sms", period=month)
    expected = (max(texts - FREE, 0) * UNIT_PRICE).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    assert statement.total == expected > 0 and statement.currency == "CNY" and statement.vendor.code == "acme"
    [line] = statement.lines.all()
    assert (line.meter, line.unit, line.quantity, line.free, line.billable, line.unit_price) == (
        "sms", "条", texts, FREE, texts - FREE, UNIT_PRICE)
    assert not Statement.objects.filter(tenant=world.yuhang, plugin__plugin_id="acme_sms").exists()
