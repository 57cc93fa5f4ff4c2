from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class StaffRole(models.TextChoices):
    COUNTY_ADMIN = "county_admin", _("County admin")
    COMMAND_OPERATOR = "command_operator", _("Command-centre operator")
    DEPARTMENT_HANDLER = "department_handler", _("Department handler")
    TOWNSHIP_OPERATOR = "township_operator", _("Township operator")
    COMMUNITY_OPERATOR = "community_operator", _("Community operator")
    GRID_WORKER = "grid_worker", _("Grid worker")
    AUDITOR = "auditor", _("Auditor")
    # Writes a community's resident site and nothing else: not a member of the console.
    COMMUNITY_EDITOR = "community_editor", _("Community site editor")


# Who may unmask ID numbers and phones (the registry's rule) …
PERSONAL_DATA_ROLES = frozenset({StaffRole.COUNTY_ADMIN, StaffRole.COMMAND_OPERATOR})
# … and so, with the county admin, who must sign in with a second factor (等保 level 3).
SECOND_FACTOR_ROLES = frozenset({StaffRole.COUNTY_ADMIN}) | PERSONAL_DATA_ROLES


class ScopeKind(models.TextChoices):
    TENANT = "tenant", _("Whole tenant")
    ORG_UNIT = "org_unit", _("Org unit subtree")
    DEPARTMENT = "department", _("Department")


class StaffProfile(models.Model):
    """A user's membership of this tenant. No profile here: the user does not exist here."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    role = models.CharField(_("role"), max_length=30, choices=StaffRole.choices)
    scope_kind = models.CharField(_("scope"), max_length=20, choices=ScopeKind.choices, default=ScopeKind.TENANT)
    # An org-unit scope covers the unit's whole subtree.
    scope_org_unit = models.ForeignKey("org.OrgUnit", null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="staff", verbose_name=_("org unit"))
    scope_department = models.ForeignKey("org.Department", null=True, blank=True, on_delete=models.PROTECT,
                                         related_name="staff", verbose_name=_("department"))
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff members")
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(scope_kind="tenant", scope_org_unit__isnull=True, scope_department__isnull=True)
                    | models.Q(scope_kind="org_unit", scope_org_unit__isnull=False, scope_department__isnull=True)
                    | models.Q(scope_kind="department", scope_org_unit__isnull=True, scope_department__isnull=False)
                ),
                name="staff_scope_matches_kind",
            ),
        ]

    def __str__(self):
        return f"{self.user} · {self.get_role_display()}"

    @property
    def scope_label(self) -> str:
        target = self.scope_org_unit or self.scope_department
        return f"{self.get_scope_kind_display()} · {target}" if target else str(self.get_scope_kind_display())
