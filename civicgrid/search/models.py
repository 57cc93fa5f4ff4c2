"""The PostgreSQL backend's index and the queue of cases waiting to be indexed,
both in each tenant's schema.

``CaseDocument`` is what the PostgreSQL backend searches: the case's words as a
``tsvector`` under a GIN index, with the terms filters, facets and scopes read,
so a search never joins the live case table. ``IndexQueue`` holds the cases whose
document is stale; the outbox fills it after each commit and the indexer drains
it, so a backend that is down only makes cases wait there.
"""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models


class CaseDocument(models.Model):
    case = models.OneToOneField("cases.Case", primary_key=True, on_delete=models.CASCADE,
                                related_name="search_document")
    number = models.CharField(max_length=32)
    title = models.CharField(max_length=200)
    meta = models.TextField(blank=True)
    body = models.TextField(blank=True)
    vector = SearchVectorField()
    status = models.CharField(max_length=20)
    category_codes = ArrayField(models.CharField(max_length=40), default=list)
    source = models.CharField(max_length=20)
    urgency = models.CharField(max_length=10)
    org_path = models.CharField(max_length=255, blank=True)
    department_id = models.BigIntegerField(null=True)
    held_departments = ArrayField(models.BigIntegerField(), default=list)
    reporter_id = models.BigIntegerField(null=True)
    reported_at = models.DateTimeField()
    clock_due = models.DateTimeField()
    clock_warn = models.DateTimeField(null=True)
    clock_stopped_at = models.DateTimeField(null=True)
    is_open = models.BooleanField()
    indexed_at = models.DateTimeField()

    class Meta:
        indexes = [GinIndex(fields=["vector"], name="search_case_vector")]

    def __str__(self):
        return self.number


class IndexQueue(models.Model):
    case_id = models.BigIntegerField(primary_key=True)
    queued_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["queued_at"], name="search_queue_age")]

    def __str__(self):
        return str(self.case_id)
