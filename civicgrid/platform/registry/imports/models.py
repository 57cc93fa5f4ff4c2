"""Import batches of a department's file and the rows staged from it.

A batch is applied whole or not at all; its rows stay staged afterwards, so the
reconciliation report can be downloaded any time. Staged rows hold protected
values only encrypted, indexed and masked, never in clear.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _l


class Field(models.TextChoices):
    """What a file column can be mapped to."""

    NAME = "name", _l("Name")
    ID_NUMBER = "id_number", _l("ID number")
    PHONE = "phone", _l("Phone")
    RESIDENCE = "residence", _l("Residence")
    REGISTERED_ADDRESS = "registered_address", _l("Registered address")
    ACTUAL_ADDRESS = "actual_address", _l("Actual address")
    GRID = "grid", _l("Grid code")
    HOUSEHOLD = "household", _l("Household number")


REQUIRED_FIELDS = (Field.NAME, Field.ID_NUMBER, Field.GRID)


class Outcome(models.TextChoices):
    BAD = "bad", _l("Bad row")
    NEW = "new", _l("New")
    UPDATED = "updated", _l("Updated")
    UNCHANGED = "unchanged", _l("Unchanged")
    CONFLICTING = "conflicting", _l("Conflicting")


# What a batch imports when it names no plugin's registry.
PERSONS = "persons"


class ImportBatch(models.Model):
    class Status(models.TextChoices):
        UPLOADED = "uploaded", _l("Waiting for the column mapping")
        QUEUED = "queued", _l("Queued")
        RUNNING = "running", _l("Running")
        REJECTED = "rejected", _l("Rejected: bad rows, nothing applied")
        APPLIED = "applied", _l("Applied")
        FAILED = "failed", _l("Failed, nothing applied")

    FINISHED = (Status.REJECTED, Status.APPLIED, Status.FAILED)

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "XLSX"

    department = models.ForeignKey("org.Department", on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_l("source department"))
    # The registry filled: persons, or a plugin's (``ImportTarget.code``, e.g. "food_safety.businesses").
    target = models.CharField(_l("what is imported"), max_length=60, default=PERSONS)
    # Users live in the public schema: no constraint across schemas, and the label
    # outlives the account (as in the audit trail).
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.DO_NOTHING,
                                   db_constraint=False, related_name="+", verbose_name=_l("created by"))
    created_by_label = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    file_name = models.CharField(_l("file name"), max_length=255)
    # A name in the tenant's file storage (console uploads) or a local path (command line).
    file_path = models.CharField(max_length=500)
    file_in_storage = models.BooleanField(default=True)
    file_size = models.BigIntegerField(default=0)
    file_format = models.CharField(max_length=4, choices=Format.choices)
    encoding = models.CharField(_l("encoding"), max_length=20, blank=True)
    header = models.JSONField(default=list)
    column_mapping = models.JSONField(_l("column mapping"), default=dict)  # file header → Field
    language = models.CharField(max_length=10, blank=True)  # of the reasons written into staged rows

    status = models.CharField(_l("status"), max_length=10, choices=Status.choices, default=Status.UPLOADED)
    error = models.TextField(blank=True)
    total_rows = models.PositiveIntegerField(default=0)
    bad_rows = models.PositiveIntegerField(default=0)
    new_rows = models.PositiveIntegerField(default=0)
    updated_rows = models.PositiveIntegerField(default=0)
    unchanged_rows = models.PositiveIntegerField(default=0)
    conflicting_rows = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _l("import batch")
        verbose_name_plural = _l("import batches")

    def __str__(self):
        return f"{self.file_name} ({self.department_id})"

    @property
    def source(self) -> str:
        """The registry's source label for records this batch keeps."""
        return f"dept:{self.department.code}"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    def counts(self) -> dict[str, int]:
        return {"total": self.total_rows, "bad": self.bad_rows, "new": self.new_rows,
                "updated": self.updated_rows, "unchanged": self.unchanged_rows,
                "conflicting": self.conflicting_rows}


class ImportRow(models.Model):
    """One data row of a batch's file, as validated (staging).

    Loaded with COPY, a million at a time, so: no foreign-key constraints (each
    would fire a trigger per row), plain ids for grid and person, text wide
    enough for whatever a file holds (length limits are validation reasons).
    Rows go with their batch (``actions.discard_batch``), never one by one.
    """

    pk = models.CompositePrimaryKey("batch_id", "line")
    batch = models.ForeignKey(ImportBatch, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False,
                              related_name="+")  # the primary key leads with it
    line = models.PositiveIntegerField()  # in the file, 1 = the header
    name = models.TextField(blank=True)
    id_index = models.CharField(max_length=64, blank=True)
    id_encrypted = models.BinaryField(null=True)
    id_masked = models.TextField(blank=True)
    gender = models.CharField(max_length=1, blank=True)
    birth_date = models.DateField(null=True)
    phone_encrypted = models.BinaryField(null=True)
    phone_index = models.CharField(max_length=64, blank=True)  # "" = no phone given
    phone_masked = models.TextField(blank=True)
    residence = models.TextField(blank=True)  # "" = not given
    registered_address = models.TextField(blank=True)
    actual_address = models.TextField(blank=True)
    grid_code = models.TextField(blank=True)
    grid_id = models.BigIntegerField(null=True)
    household_number = models.TextField(blank=True)
    errors = models.JSONField(null=True)  # reasons, in the batch's language; null = a good row
    # "bad" or "new"; a good row the registry already knows has an ImportMatch saying what it is.
    outcome = models.CharField(max_length=12, choices=Outcome.choices)

    class Meta:
        verbose_name = _l("staged import row")
        verbose_name_plural = _l("staged import rows")

    def __str__(self):
        return f"{self.batch_id}:{self.line}"


class ImportMatch(models.Model):
    """A good staged row the registry already holds: unchanged, updated or conflicting.

    Narrow and written once, so matching a million known persons writes a
    million small rows rather than rewriting a million wide staged ones.
    """

    pk = models.CompositePrimaryKey("batch_id", "line")
    batch = models.ForeignKey(ImportBatch, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False,
                              related_name="+")
    line = models.PositiveIntegerField()
    person_id = models.BigIntegerField()
    outcome = models.CharField(max_length=12, choices=Outcome.choices)
    differences = models.JSONField(null=True)  # {field: [registry value, file value]}, masked

    class Meta:
        verbose_name = _l("matched import row")
        verbose_name_plural = _l("matched import rows")

    def __str__(self):
        return f"{self.batch_id}:{self.line} {self.outcome}"


class ImportRecord(models.Model):
    """One data row of a batch that fills a plugin's registry (``ImportTarget``), as
    checked: its key, its clean values or its reasons, and what applying it does.

    Plugin registries are counties' lists of units, businesses and schools (thousands,
    not millions), so these are written with the ORM in blocks, not with COPY.
    """

    pk = models.CompositePrimaryKey("batch_id", "line")
    batch = models.ForeignKey(ImportBatch, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False,
                              related_name="+")
    line = models.PositiveIntegerField()
    key = models.TextField(blank=True)
    cells = models.JSONField(default=dict)  # the mapped cells as read, for the report
    values = models.JSONField(null=True)  # clean values; null for a bad row
    errors = models.JSONField(null=True)  # reasons, in the batch's language; null = a good row
    outcome = models.CharField(max_length=12, choices=Outcome.choices)
    differences = models.JSONField(null=True)  # {field: [registry value, file value]} for an updated row

    class Meta:
        verbose_name = _l("staged record")
        verbose_name_plural = _l("staged records")

    def __str__(self):
        return f"{self.batch_id}:{self.line}"
