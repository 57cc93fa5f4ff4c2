"""The event engine's records: categories and routing rules, cases, their
timeline, attachments, supervision orders and the tenant's calendar overrides.

A case's state only ever changes through ``actions`` (one function per
transition); lights are derived from deadlines, never stored.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Urgency(models.TextChoices):
    NORMAL = "normal", _("Normal")
    URGENT = "urgent", _("Urgent")
    CRITICAL = "critical", _("Critical")


class Category(models.Model):
    """A node of the tenant's category tree: a group (no parent) or a leaf cases are filed under."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children",
                               verbose_name=_("group"))
    description = models.CharField(_("description"), max_length=300, blank=True)
    accept_hours = models.DecimalField(_("working hours to accept"), max_digits=6, decimal_places=2, default=2)
    handle_hours = models.DecimalField(_("working hours to handle"), max_digits=6, decimal_places=2, default=40)
    urgency = models.CharField(_("urgency"), max_length=10, choices=Urgency.choices, default=Urgency.NORMAL)
    # The province's hint: the department with this code handles it when no routing rule says otherwise.
    department_code = models.CharField(_("default department code"), max_length=40, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        constraints = [
            models.CheckConstraint(condition=models.Q(accept_hours__gt=0, handle_hours__gt=0),
                                   name="category_deadlines_positive"),
        ]

    def __str__(self):
        return self.name

    @property
    def is_group(self) -> bool:
        return self.parent_id is None


class RoutingRule(models.Model):
    """Category + area → the department that handles it. The rule for the
    deepest area containing the case's grid wins; a rule without an area
    covers the whole county."""

    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="routing_rules",
                                 verbose_name=_("category"))
    area = models.ForeignKey("org.OrgUnit", null=True, blank=True, on_delete=models.CASCADE, related_name="+",
                             verbose_name=_("area"))
    department = models.ForeignKey("org.Department", on_delete=models.CASCADE, related_name="routing_rules",
                                   verbose_name=_("department"))

    class Meta:
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")
        constraints = [
            models.UniqueConstraint(fields=["category", "area"], name="routing_one_rule_per_area"),
            models.UniqueConstraint(fields=["category"], condition=models.Q(area__isnull=True),
                                    name="routing_one_county_rule"),
        ]

    def __str__(self):
        return f"{self.category} → {self.department}"


class Source(models.TextChoices):
    GRID_WORKER = "grid_worker", _("Grid worker")
    RESIDENT_SITE = "resident_site", _("Resident site")
    HOTLINE_12345 = "hotline_12345", _("12345 hotline")
    SMS = "sms", _("SMS")
    WECHAT = "wechat", _("WeChat")
    POLICE_110 = "police_110", _("110 linkage")
    DEPARTMENT = "department", _("Department")
    INSPECTION = "inspection", _("Inspection")
    OPEN311 = "open311", _("Open311 client")


class Status(models.TextChoices):
    REPORTED = "reported", pgettext_lazy("case status", "Reported")
    ACCEPTED = "accepted", pgettext_lazy("case status", "Accepted")
    DISPATCHED = "dispatched", pgettext_lazy("case status", "Dispatched")
    IN_PROGRESS = "in_progress", pgettext_lazy("case status", "In progress")
    RETURNED = "returned", pgettext_lazy("case status", "Returned")
    ESCALATED = "escalated", pgettext_lazy("case status", "Escalated")
    HANDLED = "handled", pgettext_lazy("case status", "Handled")
    CLOSED = "closed", pgettext_lazy("case status", "Closed")
    REJECTED = "rejected", pgettext_lazy("case status", "Rejected")
    TRANSFERRED = "transferred", pgettext_lazy("case status", "Transferred to another county")
    REOPENED = "reopened", pgettext_lazy("case status", "Reopened")
    # A duplicate report: it closes with its original.
    MERGED = "merged", pgettext_lazy("case status", "Following another case")


OPEN_STATUSES = (Status.REPORTED, Status.ACCEPTED, Status.DISPATCHED, Status.IN_PROGRESS, Status.RETURNED,
                 Status.ESCALATED, Status.REOPENED)
# Waiting for someone at the holding level to dispatch it.
AWAITING_DISPATCH = (Status.ACCEPTED, Status.RETURNED, Status.ESCALATED, Status.REOPENED)


class Level(models.TextChoices):
    """Who holds a case: escalation moves it one level up."""

    COMMUNITY = "community", _("Village / community")
    TOWNSHIP = "township", _("Township / street")
    COUNTY = "county", _("County")


class Case(models.Model):
    number = models.CharField(_("tracking number"), max_length=32, unique=True)
    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)  # Open311 tokens, rating links
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="cases",
                                 verbose_name=_("category"))
    source = models.CharField(_("source"), max_length=20, choices=Source.choices)
    urgency = models.CharField(_("urgency"), max_length=10, choices=Urgency.choices, default=Urgency.NORMAL)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.REPORTED)
    level = models.CharField(_("held at"), max_length=10, choices=Level.choices, default=Level.COUNTY)
    # Every action bumps it: a client that acted on an older version gets a conflict.
    version = models.PositiveIntegerField(default=1)

    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+", verbose_name=_("reporter"))
    reporter_name = models.CharField(_("reporter's name"), max_length=100, blank=True)
    reporter_phone_encrypted = models.BinaryField(null=True, editable=False)
    reporter_phone_index = models.CharField(max_length=64, blank=True, editable=False)
    reporter_email = models.EmailField(_("reporter's e-mail"), blank=True)

    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    grid = models.ForeignKey("org.OrgUnit", null=True, blank=True, on_delete=models.PROTECT, related_name="cases",
                             verbose_name=_("grid"))
    # The grid's materialised path, so scoped lists are one prefix match.
    org_path = models.CharField(max_length=255, blank=True, editable=False)
    department = models.ForeignKey("org.Department", null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="cases", verbose_name=_("department"))
    persons = models.ManyToManyField("registry.Person", blank=True, related_name="cases",
                                     verbose_name=_("persons"))
    places = models.ManyToManyField("registry.Place", blank=True, related_name="cases", verbose_name=_("places"))
    duplicate_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="duplicates", verbose_name=_("duplicate of"))
    transferred_to = models.CharField(_("transferred to"), max_length=100, blank=True)  # "<schema>:<number>"
    transferred_from = models.CharField(_("transferred from"), max_length=100, blank=True)
    # The reporter's own key for this report (a phone's offline queue sends it with every try),
    # so a report sent twice is one case.
    client_key = models.CharField(max_length=64, blank=True, editable=False)

    reported_at = models.DateTimeField(_("reported"))
    accept_due = models.DateTimeField(_("accept by"))
    # The moments a light turns yellow (a share of the working time used), worked out
    # on the calendar when the deadline is set, so the sweep is one indexed query.
    accept_warn_at = models.DateTimeField(null=True, blank=True)
    handle_warn_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    handle_due = models.DateTimeField(_("handle by"), null=True, blank=True)
    handled_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    result = models.TextField(_("result"), blank=True)
    rating = models.PositiveSmallIntegerField(_("rating"), null=True, blank=True)
    rating_comment = models.CharField(_("rating comment"), max_length=500, blank=True)
    # Overdue facts the sweep has recorded (each once): "accept", "handle".
    overdue_marks = models.JSONField(default=list, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Not stored: True on the case ``report_case`` found by its client key instead of creating one.
    replayed = False

    class Meta:
        ordering = ["-reported_at"]
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        indexes = [
            models.Index(fields=["status", "handle_due"], name="case_status_due"),
            models.Index(fields=["status", "accept_due"], name="case_status_accept_due"),
            models.Index(fields=["org_path"], name="case_org_path", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["department", "status"], name="case_department_status"),
            models.Index(fields=["category", "status", "reported_at"], name="case_category_open"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(rating__isnull=True) | models.Q(rating__gte=1, rating__lte=5),
                                   name="case_rating_1_to_5"),
            models.UniqueConstraint(fields=["reporter", "client_key"], condition=~models.Q(client_key=""),
                                    name="case_client_key_once_per_reporter"),
        ]

    def __str__(self):
        return f"{self.number} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class CaseEvent(models.Model):
    """The case's timeline: append-only, one row per action."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=30)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    actor_label = models.CharField(max_length=150, blank=True)  # kept if the user goes
    comment = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        # Department handlers see the cases their department once held: found by this key.
        indexes = [models.Index(models.F("data__department"), name="case_event_department")]

    def __str__(self):
        return f"{self.case_id} {self.action}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("The case timeline is append-only.")
        super().save(*args, **kwargs)


class Attachment(models.Model):
    """A photo or document on a case, stored under the tenant's prefix; images
    re-encoded without EXIF/GPS, with a thumbnail."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="attachments")
    event = models.ForeignKey(CaseEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="attachments")
    file = models.CharField(max_length=300)  # storage name
    thumbnail = models.CharField(max_length=300, blank=True)
    content_type = models.CharField(max_length=60)
    kind = models.CharField(max_length=10)  # "image" | "document"
    size = models.PositiveIntegerField()
    original_name = models.CharField(max_length=200, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.original_name or self.file


class ExtensionRequest(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="extensions")
    hours = models.DecimalField(max_digits=6, decimal_places=2)
    reason = models.TextField()
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                     related_name="+")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    granted = models.BooleanField(null=True)  # None = waiting
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.case_id} +{self.hours}h"


class Supervision(models.Model):
    """A leader's order on a case (督办), with its own deadline and an optional card."""

    class Card(models.TextChoices):
        NONE = "", _("No card")
        YELLOW = "yellow", _("Yellow card")
        RED = "red", _("Red card")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="supervisions")
    order = models.TextField(_("order"))
    card = models.CharField(_("card"), max_length=10, choices=Card.choices, blank=True, default=Card.NONE)
    due_at = models.DateTimeField(_("due"))
    department = models.ForeignKey("org.Department", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")  # who was holding the case when it was issued
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    issued_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.case_id} {self.card or '-'}"


class CalendarOverride(models.Model):
    """A local exception to the national calendar: a working day off, or a rest day worked."""

    day = models.DateField(_("day"), unique=True)
    is_working = models.BooleanField(_("working day"))
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["day"]

    def __str__(self):
        return f"{self.day} {'working' if self.is_working else 'rest'}"


class Open311Key(models.Model):
    """An Open311 client's api_key for POSTing requests to this county. Only a hash is kept."""

    label = models.CharField(_("client"), max_length=100)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return self.label


class AssessmentWeight(models.Model):
    """How much each measure counts in this county's assessment scores."""

    metric = models.CharField(max_length=40, unique=True)
    weight = models.DecimalField(max_digits=6, decimal_places=2)

    def __str__(self):
        return f"{self.metric}={self.weight}"


class CaseSequence(models.Model):
    """Tracking numbers per day: ``<prefix>-<yyyymmdd>-<n>``, n counted under a row lock."""

    day = models.DateField(unique=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.day} {self.last}"


class EarlyWarning(models.Model):
    """A category whose daily count in an area rose above mean + 3σ of its previous 28 days
    (预警). Raised once per day, category and area; the command centre is notified."""

    day = models.DateField(_("day"))
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="+", verbose_name=_("category"))
    area_code = models.CharField(max_length=40, blank=True)  # the township's code; "" for cases without a grid
    area = models.ForeignKey("org.OrgUnit", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                             verbose_name=_("area"))
    count = models.PositiveIntegerField(_("cases that day"))
    mean = models.FloatField(_("daily mean, previous 28 days"))
    sigma = models.FloatField(_("standard deviation"))
    raised_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-day", "-count"]
        verbose_name = _("early warning")
        verbose_name_plural = _("early warnings")
        constraints = [models.UniqueConstraint(fields=["day", "category", "area_code"], name="early_warning_once")]

    def __str__(self):
        return f"{self.day} {self.category_id} {self.area_code or '*'}: {self.count}"

    @property
    def threshold(self) -> float:
        return self.mean + 3 * self.sigma
