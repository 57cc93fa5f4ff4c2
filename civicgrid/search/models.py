"""The PostgreSQL backend's index and the queue of cases waiting to be indexed,
both in each tenant's schema.

``CaseDocument`` is what the PostgreSQL backend searches: the case's words as a
``tsvector`` under a GIN index, with the terms filters, facets and scopes read,
so a search never joins the live case table (only the hits shown are read from it). ``IndexQueue`` holds the cases whose
document is stale; the outbox fills it after each commit and the indexer drains
it, so a backend that is down only makes cases wait there.
"""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.search import SearchVectorField
from django.db import models


class CaseDocument(models.Model):
    """One case in the PostgreSQL backend's index. The table is partitioned by month of
    ``reported_at`` (created by SQL in migration 0002; partitions are made as months
    arrive, see ``backends.postgres``), so a search reads the newest months first and
    stops at ``COUNT_LIMIT`` matches. Rows stay narrow: the case's text is read from
    the case itself for the few hits shown."""

    case = models.OneToOneField("cases.Case", primary_key=True, on_delete=models.DO_NOTHING,
                                related_name="search_document")
    reported_at = models.DateTimeField()
    vector = SearchVectorField()  # every word, without positions: matching
    head = SearchVectorField()  # title (A) and meta (B) words with positions: ranking
    status = models.CharField(max_length=20)
    category_codes = ArrayField(models.CharField(max_length=40), default=list)
    source = models.CharField(max_length=20)
    urgency = models.CharField(max_length=10)
    org_path = models.CharField(max_length=255, blank=True)
    department_id = models.BigIntegerField(null=True)
    held_departments = ArrayField(models.BigIntegerField(), default=list)
    reporter_id = models.BigIntegerField(null=True)
    clock_due = models.DateTimeField()
    clock_warn = models.DateTimeField(null=True)
    clock_stopped_at = models.DateTimeField(null=True)
    is_open = models.BooleanField()
    indexed_at = models.DateTimeField()

    class Meta:
        managed = False  # partitioned: see migration 0002
        db_table = "search_casedocument"

    def __str__(self):
        return str(self.case_id)


class IndexQueue(models.Model):
    case_id = models.BigIntegerField(primary_key=True)
    queued_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["queued_at"], name="search_queue_age")]

    def __str__(self):
        return str(self.case_id)
