"""The SMS channel against a real HTTP server on loopback: what the gateway
receives, failures, people with no phone, and no second text or bill for a
notification delivered again."""

from __future__ import annotations

import pytest
from acme_helpers import API_KEY, grid_worker_heard_by_a_community_operator, report_by
from acme_sms.actions import forget_phone, register_phone
from acme_sms.channel import AcmeSmsChannel
from acme_sms.models import SmsMessage, SmsRecipient
from django.core.exceptions import ValidationError
from django.test.utils import override_settings
from django_tenants.utils import tenant_context

from civicgrid.platform.notifications.models import Notification
from civicgrid.plugins import actions
from civicgrid.plugins.catalog import sync_catalog
from civicgrid.plugins.models import UsageRecord

PHONE = "13812345678"


@pytest.fixture
def notification(world):
    """A notification in shangcheng, where the plugin is switched on: the
    community operator hearing of a grid worker's report."""
    sync_catalog()
    actions.publish_plugin(plugin_id="acme_sms", published=True, acting_user=None)
    actions.enable_plugin(tenant=world.shangcheng, plugin_id="acme_sms", acting_user=None)
    with tenant_context(world.shangcheng):
        case = report_by(grid_worker_heard_by_a_community_operator())
        yield Notification.objects.select_related("recipient").get(case=case)


def deliver(notification) -> SmsMessage:
    AcmeSmsChannel().deliver(notification, notification.recipient)
    return SmsMessage.objects.get(notification_id=notification.pk)


def billed(notification):
    return UsageRecord.objects.filter(plugin_id="acme_sms", metric="sms",
                                      idempotency_key=f"notification:{notification.pk}")


def test_the_gateway_gets_the_message_with_the_key_and_it_is_billed_once(notification, gateway, world):
    register_phone(notification.recipient, "+86 138-1234-5678")
    message = deliver(notification)

    [received] = gateway.requests
    assert received.path == "/sms"
    assert received.headers["Authorization"] == f"Bearer {API_KEY}"
    assert received.headers["Content-Type"].startswith("application/json")
    assert received.body == {"to": PHONE, "text": notification.title, "reference": f"shangcheng-{notification.pk}"}
    assert message.status == SmsMessage.Status.SENT and message.provider_message_id == "acme-1"
    assert message.phone_masked == "138****5678" and message.recipient == notification.recipient
    [usage] = billed(notification)
    assert usage.tenant_id == world.shangcheng.pk and usage.quantity == 1

    deliver(notification)  # the outbox hands the same notification over again
    assert len(gateway.requests) == 1 and billed(notification).count() == 1
    assert SmsMessage.objects.get(notification_id=notification.pk).attempts == 1


@pytest.mark.parametrize("answer", [500, 401, 302])
def test_a_refusing_gateway_is_recorded_as_failed_and_not_billed_and_tried_again_later(
        notification, gateway, answer):
    register_phone(notification.recipient, PHONE)
    gateway.status = answer
    message = deliver(notification)  # does not raise: the other channels and the outbox go on
    assert message.status == SmsMessage.Status.FAILED and f"answered {answer}" in message.error
    assert not billed(notification).exists()

    gateway.status = 200
    message = deliver(notification)
    assert message.status == SmsMessage.Status.SENT and message.error == "" and message.attempts == 2
    assert len(gateway.requests) == 2 and billed(notification).count() == 1


def test_an_unreachable_or_slow_gateway_is_a_failure_within_the_timeout(notification, gateway):
    register_phone(notification.recipient, PHONE)
    with override_settings(ACME_SMS_ENDPOINT="http://127.0.0.1:9/sms"):  # the discard port: nothing listens
        message = deliver(notification)
    assert message.status == SmsMessage.Status.FAILED and "could not be reached" in message.error

    gateway.delay = 1.0
    with override_settings(ACME_SMS_TIMEOUT="0.2"):
        message = deliver(notification)
    assert message.status == SmsMessage.Status.FAILED and "could not be reached" in message.error
    assert not billed(notification).exists()


def test_someone_with_no_phone_is_skipped_quietly(notification, gateway):
    message = deliver(notification)
    assert message.status == SmsMessage.Status.SKIPPED and message.phone_masked == ""
    assert gateway.requests == [] and not billed(notification).exists()

    register_phone(notification.recipient, PHONE)  # registered later: the next delivery texts
    assert deliver(notification).status == SmsMessage.Status.SENT
    assert forget_phone(notification.recipient) and not SmsRecipient.objects.exists()


def test_phones_are_kept_encrypted_and_only_for_the_countys_own_staff(notification, world):
    recipient = register_phone(notification.recipient, PHONE)
    stored = bytes(SmsRecipient.objects.get(pk=recipient.pk).phone_encrypted)
    assert PHONE.encode() not in stored and recipient.phone_masked == "138****5678"
    with pytest.raises(ValidationError):
        register_phone(notification.recipient, "12345")
    with pytest.raises(ValidationError):  # a user of another county is nobody here
        register_phone(world.user("yuhang_operator"), PHONE)
    assert SmsRecipient.objects.count() == 1


def test_a_residents_one_time_code_is_texted_and_billed_once(notification, gateway, world):
    channel = AcmeSmsChannel()
    with tenant_context(world.shangcheng):
        assert channel.send_code(PHONE, "您的验证码是123456", "shangcheng-code-7")
        [received] = gateway.requests
        assert received.body == {"to": PHONE, "text": "您的验证码是123456", "reference": "shangcheng-code-7"}
        usage = UsageRecord.objects.filter(plugin_id="acme_sms", idempotency_key="code:shangcheng-code-7")
        assert usage.count() == 1
        gateway.status = 503
        assert not channel.send_code(PHONE, "again", "shangcheng-code-8")
        assert not UsageRecord.objects.filter(idempotency_key="code:shangcheng-code-8").exists()
