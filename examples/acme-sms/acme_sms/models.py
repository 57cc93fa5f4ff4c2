"""The plugin's tables, in each tenant's schema. A phone number is kept only
encrypted (with the platform's data key) beside a masked form for display."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class SmsRecipient(models.Model):
    """The mobile a member of staff gets text messages on (the county registers it)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    phone_encrypted = models.BinaryField(editable=False)
    phone_masked = models.CharField(_("phone"), max_length=20)  # 138****5678
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("SMS recipient")
        verbose_name_plural = _("SMS recipients")

    def __str__(self):
        return f"{self.user_id} {self.phone_masked}"


class SmsMessage(models.Model):
    """What became of one notification: at most one row each, so a redelivered
    notification is never sent (or billed) twice."""

    class Status(models.TextChoices):
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped (no phone registered)")

    notification_id = models.BigIntegerField(unique=True)
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    phone_masked = models.CharField(max_length=20, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices)
    provider_message_id = models.CharField(max_length=100, blank=True)
    error = models.CharField(max_length=300, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("text message")
        verbose_name_plural = _("text messages")

    def __str__(self):
        return f"{self.notification_id} {self.status}"
