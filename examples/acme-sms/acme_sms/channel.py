"""The notification channel: each stored notification becomes at most one text
message, billed once, whatever number of times the outbox hands it over."""

from __future__ import annotations

import logging

from django.db import connection, transaction

from civicgrid.platform.registry.protection import decrypt
from civicgrid.plugins import meter

from .gateway import GatewayError, send_sms
from .models import SmsMessage, SmsRecipient

logger = logging.getLogger("acme_sms")
PLUGIN_ID = "acme_sms"  # named when metering: deliver() is also called outside the core's hook wrapper


class AcmeSmsChannel:
    code = "acme_sms"
    name = "Acme 短信"

    def deliver(self, notification, recipient) -> None:
        """Text ``recipient`` the notification's title. A person with no phone
        registered is skipped; a gateway failure is recorded, not raised, and
        tried again if the notification is delivered again."""
        with transaction.atomic():
            # The row is claimed (and locked) before sending: a second delivery of
            # the same notification waits here, then finds it sent.
            message, _created = SmsMessage.objects.select_for_update().get_or_create(
                notification_id=notification.pk,
                defaults={"recipient": recipient, "status": SmsMessage.Status.SKIPPED})
            if message.status == SmsMessage.Status.SENT:
                return
            phone, masked = phone_for(recipient)
            message.phone_masked, message.error, message.provider_message_id = masked, "", ""
            if phone is None:
                message.status = SmsMessage.Status.SKIPPED
            else:
                message.attempts += 1
                try:
                    message.provider_message_id = send_sms(to=phone, text=notification.title,
                                                           reference=f"{connection.schema_name}-{notification.pk}")
                    message.status = SmsMessage.Status.SENT
                except GatewayError as exc:
                    logger.warning("acme_sms: notification %s to %s not sent: %s", notification.pk, masked, exc)
                    message.status, message.error = SmsMessage.Status.FAILED, str(exc)[:300]
            message.save()
            if message.status == SmsMessage.Status.SENT:
                meter("sms", idempotency_key=f"notification:{notification.pk}", plugin=PLUGIN_ID)


    def send_code(self, phone: str, text: str, reference: str) -> bool:
        """A resident's one-time code for a community site: texted to a number that
        belongs to no user, in the resident's request. Billed once per ``reference``
        (the core's unique reference for the code); False when the gateway refused it."""
        try:
            send_sms(to=phone, text=text, reference=reference)
        except GatewayError as exc:
            logger.warning("acme_sms: code %s not sent: %s", reference, exc)
            return False
        meter("sms", idempotency_key=f"code:{reference}", plugin=PLUGIN_ID)
        return True


def phone_for(user) -> tuple[str | None, str]:
    """The user's registered phone in this tenant and its masked form (None, "" if none)."""
    found = SmsRecipient.objects.filter(user=user).first()
    if found is None:
        return None, ""
    return decrypt(found.phone_encrypted), found.phone_masked
