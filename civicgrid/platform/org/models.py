"""The tenant's org tree (township/street → village/community → grid) and its departments.

Subtrees are found by a materialised path of codes (``T01/T01-C01/``), so
"everything under this township" is one indexed ``LIKE 'path%'``.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class OrgUnit(models.Model):
    class Level(models.TextChoices):
        TOWNSHIP = "township", _("Township / street")
        VILLAGE = "village", _("Village / community")
        GRID = "grid", _("Grid")

    CHILD_LEVEL = {None: Level.TOWNSHIP, Level.TOWNSHIP: Level.VILLAGE, Level.VILLAGE: Level.GRID}

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children",
                               verbose_name=_("parent"))
    path = models.CharField(max_length=255, unique=True, editable=False)
    # Grids only: a GeoJSON geometry (Polygon or MultiPolygon, WGS 84 lng/lat).
    boundary = models.JSONField(_("boundary"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["path"]
        verbose_name = _("org unit")
        verbose_name_plural = _("org units")
        indexes = [models.Index(fields=["path"], name="org_unit_path_prefix", opclasses=["varchar_pattern_ops"])]

    def __str__(self):
        return f"{self.name} ({self.code})"

    @staticmethod
    def path_for(code: str, parent: "OrgUnit | None") -> str:
        return f"{parent.path if parent else ''}{code}/"


class Department(models.Model):
    """A functional body that handles cases, at county or township level."""

    class Level(models.TextChoices):
        COUNTY = "county", _("County")
        TOWNSHIP = "township", _("Township")

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    # Township-level departments belong to their township.
    township = models.ForeignKey(OrgUnit, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="departments", limit_choices_to={"level": OrgUnit.Level.TOWNSHIP},
                                 verbose_name=_("township"))
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(level="county", township__isnull=True)
                | models.Q(level="township", township__isnull=False),
                name="department_township_matches_level",
            )
        ]

    def __str__(self):
        return self.name
