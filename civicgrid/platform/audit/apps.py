from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    """Installed in the public schema (province actions) and every tenant schema (tenant actions)."""

    name = "civicgrid.platform.audit"
    label = "audit"
    verbose_name = _("Audit trail")
