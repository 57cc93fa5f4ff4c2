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


class ScopeKind(models.TextChoices):
    TENANT = "tenant", _("Whole tenant")
    ORG_UNIT = "org_unit", _("Org unit subtree")
    DEPARTMENT = "department", _("Department")


class StaffProfile(models.Model):
    """A user's membership of this tenant. No profile here: the user does not exist here."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    role = models.CharField(_("role"), max_length=30, choices=StaffRole.choices)
    # The org unit or department code the role is confined to; the org module
    # resolves codes to its tree (an org-unit scope covers the whole subtree).
    scope_kind = models.CharField(_("scope"), max_length=20, choices=ScopeKind.choices, default=ScopeKind.TENANT)
    scope_code = models.CharField(_("scope code"), max_length=40, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff members")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(scope_kind="tenant", scope_code="") | ~models.Q(scope_kind="tenant"),
                name="staff_tenant_scope_has_no_code",
            ),
            models.CheckConstraint(
                condition=models.Q(scope_kind="tenant") | ~models.Q(scope_code=""),
                name="staff_narrow_scope_has_code",
            ),
        ]

    def __str__(self):
        return f"{self.user} · {self.get_role_display()}"
