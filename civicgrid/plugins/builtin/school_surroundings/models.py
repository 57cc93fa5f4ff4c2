"""Schools, their surrounding zone (a radius), patrol rotas and check-ins, and the cases
found inside a zone. Tables in every tenant schema; rows only through ``actions``."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

DEFAULT_RADIUS_M = 200
MIN_RADIUS_M = 50
MAX_RADIUS_M = 2000


class SchoolKind(models.TextChoices):
    KINDERGARTEN = "kindergarten", _("Kindergarten")
    PRIMARY = "primary", _("Primary school")
    JUNIOR = "junior", _("Junior middle school")
    SENIOR = "senior", _("Senior high school")
    VOCATIONAL = "vocational", _("Secondary vocational school")
    NINE_YEAR = "nine_year", _("Nine-year school")


class School(models.Model):
    code = models.CharField(_("school code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=20, choices=SchoolKind.choices)
    address = models.CharField(_("address"), max_length=200)
    grid = models.ForeignKey("org.OrgUnit", on_delete=models.PROTECT, related_name="+", verbose_name=_("grid"),
                             limit_choices_to={"level": "grid"})
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6)
    pupils = models.PositiveIntegerField(_("pupils"), default=0)
    contact = models.CharField(_("contact"), max_length=100, blank=True)
    opens_at = models.TimeField(_("school opens"), null=True, blank=True)
    closes_at = models.TimeField(_("school closes"), null=True, blank=True)
    radius_m = models.PositiveIntegerField(_("zone radius (m)"), default=DEFAULT_RADIUS_M)
    # Who keeps this record: "console" or "dept:<code>" (imported).
    source = models.CharField(max_length=60, default="console")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("school")
        verbose_name_plural = _("schools")
        indexes = [models.Index(fields=["latitude", "longitude"], name="school_lat_lng")]
        constraints = [
            models.CheckConstraint(condition=models.Q(radius_m__gte=MIN_RADIUS_M, radius_m__lte=MAX_RADIUS_M),
                                   name="school_radius_in_range"),
        ]

    def __str__(self):
        return self.name


WEEKDAY_CHOICES = [
    (1, _("Monday")), (2, _("Tuesday")), (3, _("Wednesday")), (4, _("Thursday")), (5, _("Friday")),
    (6, _("Saturday")), (7, _("Sunday")),
]


class PatrolSlot(models.Model):
    """One line of a school's rota: on these weekdays, from ``starts_at`` to ``ends_at``
    (local time), these staff patrol the zone."""

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="slots", verbose_name=_("school"))
    weekdays = models.CharField(_("weekdays"), max_length=7, default="12345")  # ISO weekdays, "12345" = Mon–Fri
    starts_at = models.TimeField(_("from"))
    ends_at = models.TimeField(_("to"))
    patrollers = models.ManyToManyField("staff.StaffProfile", related_name="+", verbose_name=_("patrollers"))
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["school", "starts_at"]
        verbose_name = _("patrol slot")
        verbose_name_plural = _("patrol slots")
        constraints = [
            models.CheckConstraint(condition=models.Q(ends_at__gt=models.F("starts_at")), name="patrol_slot_ends_after"),
        ]

    def __str__(self):
        return f"{self.school} {self.starts_at:%H:%M}–{self.ends_at:%H:%M}"

    def weekday_list(self) -> list[int]:
        return [int(d) for d in self.weekdays if d.isdigit()]

    def runs_on(self, day) -> bool:
        return str(day.isoweekday()) in self.weekdays


class PatrolCheckIn(models.Model):
    """A patroller was in the zone during the slot on ``day``. ``device_key`` is the phone's
    own key for this check-in: sent again (offline queue, a double tap), it is the same one."""

    slot = models.ForeignKey(PatrolSlot, on_delete=models.PROTECT, related_name="checkins")
    day = models.DateField()
    patroller = models.ForeignKey("staff.StaffProfile", on_delete=models.PROTECT, related_name="+")
    checked_at = models.DateTimeField()  # when the phone says it happened
    received_at = models.DateTimeField(auto_now_add=True)
    latitude = models.DecimalField(max_digits=9, decimal_places=6)
    longitude = models.DecimalField(max_digits=9, decimal_places=6)
    distance_m = models.PositiveIntegerField()
    note = models.CharField(max_length=300, blank=True)
    device_key = models.CharField(max_length=64)

    class Meta:
        ordering = ["-checked_at"]
        constraints = [
            models.UniqueConstraint(fields=["patroller", "device_key"], name="patrol_checkin_device_key_once"),
            models.UniqueConstraint(fields=["slot", "day", "patroller"], name="patrol_checkin_once_per_day"),
        ]
        indexes = [models.Index(fields=["day", "slot"], name="patrol_checkin_day")]

    def __str__(self):
        return f"{self.slot_id} {self.day} {self.patroller_id}"


class ZoneCase(models.Model):
    """A case reported inside a school's zone, and whether it was raised in urgency for it."""

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="zone_cases")
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="+")
    distance_m = models.PositiveIntegerField()
    raised_from = models.CharField(max_length=10, blank=True)
    raised_to = models.CharField(max_length=10, blank=True)
    linked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-linked_at"]
        constraints = [models.UniqueConstraint(fields=["school", "case"], name="zone_case_once")]

    def __str__(self):
        return f"{self.school_id} {self.case_id}"
