"""人、地、物、事、组织: the people, places, things and organisations of every grid.

Identifiers and phones are stored encrypted with a blind index beside them
(``protection``); code reads them through the model's methods, and every
output masks them unless an unmask action says otherwise.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _l

from . import protection
from .identity import normalise_phone, parse_id_number


class GridBound(models.Model):
    grid = models.ForeignKey("org.OrgUnit", on_delete=models.PROTECT, related_name="+", verbose_name=_l("grid"),
                             limit_choices_to={"level": "grid"})
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Who keeps this record: "grid" (collected by grid workers) or "dept:<code>" (imported).
    source = models.CharField(_l("source"), max_length=60, default="grid")

    class Meta:
        abstract = True


class Household(GridBound):
    number = models.CharField(_l("household number"), max_length=40, unique=True)
    address = models.CharField(_l("address"), max_length=200)

    class Meta:
        verbose_name = _l("household")
        verbose_name_plural = _l("households")

    def __str__(self):
        return f"{self.number} {self.address}"


class Person(GridBound):
    class Gender(models.TextChoices):
        MALE = "M", _l("Male")
        FEMALE = "F", _l("Female")

    class Residence(models.TextChoices):
        REGISTERED = "registered", _l("Registered resident")
        FLOATING = "floating", _l("Floating resident")

    name = models.CharField(_l("name"), max_length=60)
    id_number_encrypted = models.BinaryField(editable=False)
    # Hashes are only ever looked up exactly, so plain B-tree indexes (declared in
    # Meta): unique=True/db_index=True would add a second, useless LIKE index each.
    id_number_index = models.CharField(max_length=64, editable=False)
    # Derived from the ID number; kept as columns for filtering and statistics.
    gender = models.CharField(_l("gender"), max_length=1, choices=Gender.choices, editable=False)
    birth_date = models.DateField(_l("birth date"), editable=False)
    phone_encrypted = models.BinaryField(null=True, editable=False)
    phone_index = models.CharField(max_length=64, blank=True, editable=False)
    residence = models.CharField(_l("residence"), max_length=12, choices=Residence.choices,
                                 default=Residence.REGISTERED)
    registered_address = models.CharField(_l("registered address"), max_length=200, blank=True)
    actual_address = models.CharField(_l("actual address"), max_length=200, blank=True)
    household = models.ForeignKey(Household, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="members", verbose_name=_l("household"))
    # Set when the person's data was erased on request (``anonymisation``): the row stays,
    # a placeholder for statistics and for the cases that name it, with nothing that identifies.
    anonymised_at = models.DateTimeField(_l("anonymised"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _l("person")
        verbose_name_plural = _l("persons")
        indexes = [
            models.Index(fields=["grid", "name"], name="person_grid_name"),
            models.Index(fields=["phone_index"], name="person_phone_index"),
        ]
        constraints = [models.UniqueConstraint(fields=["id_number_index"], name="person_id_number_index_unique")]

    def __str__(self):
        return self.name

    # --- protected fields -------------------------------------------------------

    def set_id_number(self, raw: str) -> None:
        parsed = parse_id_number(raw)
        self.id_number_encrypted = protection.encrypt(parsed.value)
        self.id_number_index = protection.blind_index(parsed.value, "id")
        self.gender, self.birth_date = parsed.gender, parsed.birth_date

    def set_phone(self, raw: str) -> None:
        if not raw:
            self.phone_encrypted, self.phone_index = None, ""
            return
        phone = normalise_phone(raw)
        self.phone_encrypted = protection.encrypt(phone)
        self.phone_index = protection.blind_index(phone, "phone")

    def id_number(self) -> str:
        """Plain text: only for the unmask action and matching code, never for display.
        Empty once anonymised (the value was erased, not kept encrypted)."""
        return protection.decrypt(self.id_number_encrypted) if self.id_number_encrypted else ""

    def phone(self) -> str:
        return protection.decrypt(self.phone_encrypted) if self.phone_encrypted else ""

    @property
    def masked_id_number(self) -> str:
        return protection.mask_id_number(self.id_number()) if self.id_number_encrypted else ""

    @property
    def masked_phone(self) -> str:
        return protection.mask_phone(self.phone()) if self.phone_encrypted else ""


class Building(GridBound):
    code = models.CharField(_l("code"), max_length=40, unique=True)
    address = models.CharField(_l("address"), max_length=200)
    floors = models.PositiveSmallIntegerField(_l("floors"), null=True, blank=True)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)

    class Meta:
        verbose_name = _l("building")
        verbose_name_plural = _l("buildings")

    def __str__(self):
        return self.address


class House(GridBound):
    building = models.ForeignKey(Building, on_delete=models.PROTECT, related_name="houses",
                                 verbose_name=_l("building"))
    room = models.CharField(_l("room"), max_length=40)
    is_rental = models.BooleanField(_l("rental"), default=False)
    owner = models.ForeignKey(Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_houses",
                              verbose_name=_l("owner"))
    occupants = models.ManyToManyField(Person, blank=True, related_name="occupied_houses",
                                       verbose_name=_l("occupants"))

    class Meta:
        verbose_name = _l("house")
        verbose_name_plural = _l("houses")
        constraints = [models.UniqueConstraint(fields=["building", "room"], name="house_room_unique_in_building")]

    def __str__(self):
        return f"{self.building} {self.room}"


class Place(GridBound):
    class Kind(models.TextChoices):
        INTERNET_CAFE = "internet_cafe", _l("Internet café")
        HOTEL = "hotel", _l("Hotel")
        ENTERTAINMENT = "entertainment", _l("Entertainment venue")
        MARKET = "market", _l("Market")
        SCHOOL = "school", _l("School")
        HOSPITAL = "hospital", _l("Hospital")
        RESTAURANT = "restaurant", _l("Restaurant")
        OTHER = "other", _l("Other")

    name = models.CharField(_l("name"), max_length=120)
    kind = models.CharField(_l("kind"), max_length=20, choices=Kind.choices)
    is_key_place = models.BooleanField(_l("key place"), default=False)
    address = models.CharField(_l("address"), max_length=200)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)

    class Meta:
        verbose_name = _l("place")
        verbose_name_plural = _l("places")

    def __str__(self):
        return self.name


class Organisation(GridBound):
    class Kind(models.TextChoices):
        ENTERPRISE = "enterprise", _l("Enterprise")
        SOCIAL = "social", _l("Social organisation")

    name = models.CharField(_l("name"), max_length=150)
    kind = models.CharField(_l("kind"), max_length=12, choices=Kind.choices)
    credit_code = models.CharField(_l("unified social credit code"), max_length=18, unique=True)
    legal_representative = models.CharField(_l("legal representative"), max_length=60, blank=True)
    address = models.CharField(_l("address"), max_length=200, blank=True)

    class Meta:
        verbose_name = _l("organisation")
        verbose_name_plural = _l("organisations")

    def __str__(self):
        return self.name


class Thing(GridBound):
    """City parts (城市部件): manhole covers, street lights, hydrants …"""

    class State(models.TextChoices):
        NORMAL = "normal", _l("Normal")
        DAMAGED = "damaged", _l("Damaged")
        MISSING = "missing", _l("Missing")

    code = models.CharField(_l("code"), max_length=40, unique=True)
    kind = models.CharField(_l("kind"), max_length=40)
    state = models.CharField(_l("state"), max_length=10, choices=State.choices, default=State.NORMAL)
    latitude = models.DecimalField(max_digits=9, decimal_places=6)
    longitude = models.DecimalField(max_digits=9, decimal_places=6)

    class Meta:
        verbose_name = _l("thing")
        verbose_name_plural = _l("things")

    def __str__(self):
        return f"{self.kind} {self.code}"


class CareKind(models.Model):
    """A care or service group (低保, elderly living alone, left-behind children …)
    that declares its own fields. Each role sees only the kinds granted to it."""

    FIELD_TYPES = ("text", "integer", "decimal", "date", "boolean", "choice")

    code = models.CharField(_l("code"), max_length=40, unique=True)
    name = models.CharField(_l("name"), max_length=60)
    # [{"name": "monthly_allowance", "label": "每月补助", "type": "decimal", "required": true, "choices": [...]}]
    fields = models.JSONField(_l("fields"), default=list)
    granted_roles = models.JSONField(_l("granted roles"), default=list)
    is_sensitive = models.BooleanField(_l("sensitive"), default=False)

    class Meta:
        ordering = ["code"]
        verbose_name = _l("care kind")
        verbose_name_plural = _l("care kinds")

    def __str__(self):
        return self.name

    def clean_values(self, values: dict) -> dict:
        """The values checked and converted against this kind's fields; raises with every problem."""
        from .care import clean_care_values

        return clean_care_values(self.fields, values)


class CareRecord(models.Model):
    kind = models.ForeignKey(CareKind, on_delete=models.PROTECT, related_name="records", verbose_name=_l("kind"))
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="care_records",
                               verbose_name=_l("person"))
    values = models.JSONField(_l("values"), default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _l("care record")
        verbose_name_plural = _l("care records")
        constraints = [models.UniqueConstraint(fields=["kind", "person"], name="care_record_one_per_kind")]

    def __str__(self):
        return f"{self.kind} · {self.person}"




class HouseholdVisit(models.Model):
    """A grid worker's visit to a household (走访): who went, when, what they found."""

    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="visits",
                                  verbose_name=_l("household"))
    visited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+",
                                   verbose_name=_l("visited by"))
    visited_at = models.DateTimeField(_l("visited at"))
    note = models.TextField(_l("what was found"), max_length=2000)
    # Where the phone was at the visit, when it could tell.
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-visited_at", "-id"]
        verbose_name = _l("household visit")
        verbose_name_plural = _l("household visits")
        indexes = [
            models.Index(fields=["household", "-visited_at"], name="visit_household_latest"),
            models.Index(fields=["visited_by", "-visited_at"], name="visit_visitor_latest"),
        ]

    def __str__(self):
        return f"{self.household} · {self.visited_at:%Y-%m-%d}"
