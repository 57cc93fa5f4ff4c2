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


class AuditAnchor(models.Model):
    """A schema's chain head as published (``anchors.anchor_all``, daily): written only in the
    public schema, where the province keeps it away from each tenant's own tables, and as a
    JSON line in the province's object storage. ``civicgrid audit verify`` checks each chain
    against its newest anchor, which catches the newest rows deleted or the whole chain
    rewritten. (The audit app lives in every schema, so tenant schemas have an empty copy.)"""

    schema = models.CharField(max_length=63)
    row_id = models.BigIntegerField()
    row_hash = models.CharField(max_length=64)
    anchored_at = models.DateTimeField()
    file = models.CharField(max_length=300, blank=True)  # the JSON lines file in storage

    class Meta:
        indexes = [models.Index(fields=["schema", "-anchored_at"], name="audit_anchor_latest")]

    def __str__(self):
        return f"{self.schema} #{self.row_id} @ {self.anchored_at:%Y-%m-%d %H:%M}"
