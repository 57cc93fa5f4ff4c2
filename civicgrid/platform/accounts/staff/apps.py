from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StaffConfig(AppConfig):
    """Tenant-schema half of accounts: who works in this tenant, in which role and scope."""

    name = "civicgrid.platform.accounts.staff"
    label = "staff"
    verbose_name = _("Staff")
