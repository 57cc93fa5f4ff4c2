from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProvinceConfig(AppConfig):
    """What sits above every domain app: onboarding, the province's pages and API, tenant health,
    the demo and the `migrate_all`, `tenants` and `run` commands."""

    name = "civicgrid.province"
    label = "province"
    verbose_name = _("Province")
