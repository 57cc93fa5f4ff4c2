"""What residents leave on the community sites. Nothing here holds a phone number in
the clear: a confirmed phone is kept as a keyed digest (the registry's blind index),
and only the last four digits' digest of a report, for the tracking lookup."""

from django.db import models


class PhoneCode(models.Model):
    """A one-time code sent to a phone: six digits, stored as a hash, valid for ten
    minutes and five guesses."""

    phone_index = models.CharField(max_length=64, db_index=True)
    code_hash = models.CharField(max_length=128)
    site = models.ForeignKey("wagtailcore.Site", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"code {self.pk} ({self.created_at:%Y-%m-%d %H:%M})"


class ResidentReport(models.Model):
    """A case reported on a community site: which site, whether the resident asked to
    stay anonymous, and the key the tracking page checks (the case number with the
    phone's last four digits, digested)."""

    case = models.OneToOneField("cases.Case", on_delete=models.CASCADE, related_name="resident_report")
    site = models.ForeignKey("wagtailcore.Site", on_delete=models.PROTECT, related_name="+")
    anonymous = models.BooleanField(default=False)
    track_key = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.case_id} @ {self.site_id}"


class ConsultationVote(models.Model):
    """One vote per confirmed phone per consultation."""

    consultation = models.ForeignKey("cms.ConsultationPage", on_delete=models.CASCADE, related_name="votes")
    option = models.ForeignKey("cms.ConsultationOption", on_delete=models.CASCADE, related_name="votes")
    phone_index = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["consultation", "phone_index"], name="one_vote_per_phone"),
        ]

    def __str__(self):
        return f"vote {self.pk} on {self.consultation_id}"
