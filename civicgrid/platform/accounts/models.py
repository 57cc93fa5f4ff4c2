"""Users live in the public schema; what a user may do inside a tenant is that
tenant's business (``staff.StaffProfile`` in the tenant schema)."""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class ProvinceRole(models.TextChoices):
    PROVINCIAL_ADMIN = "provincial_admin", _("Provincial admin")
    PROVINCIAL_SUPERVISOR = "provincial_supervisor", _("Provincial supervisor")
    VENDOR = "vendor", _("Plugin vendor")


class User(AbstractUser):
    full_name = models.CharField(_("full name"), max_length=100, blank=True)
    province_role = models.CharField(_("province role"), max_length=30, choices=ProvinceRole.choices, blank=True)
    # Staff belong to exactly one tenant; province users have none.
    home_tenant = models.ForeignKey(
        "tenants.Tenant", null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self):
        return self.full_name or self.username

    def get_full_name(self) -> str:
        """Chinese names are one field, not first and last (Wagtail's admin shows this)."""
        return self.full_name or super().get_full_name() or self.username

    @property
    def is_provincial_admin(self) -> bool:
        return self.is_active and self.province_role == ProvinceRole.PROVINCIAL_ADMIN
