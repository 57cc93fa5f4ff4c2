from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AuditEntry(models.Model):
    """One thing someone did. Rows are append-only: a trigger refuses UPDATE, and DELETE
    except by the archive action. Each row is chained to the one before by hash.

    The actor is kept as id and label rather than a foreign key, so the trail
    outlives the account and never blocks deleting one.
    """

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_label = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=80, db_index=True)
    target_type = models.CharField(max_length=80, blank=True)
    target_id = models.CharField(max_length=80, blank=True)
    purpose = models.CharField(max_length=200, blank=True)
    data = models.JSONField(default=dict, blank=True)
    # The hash chain (see chain.py): the previous row's row_hash, and this row's.
    prev_hash = models.CharField(max_length=64, blank=True, default="")
    row_hash = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.action}"
