from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProvinceConfig(AppConfig):
    """What sits above every domain app: the province's pages, tenant health, the demo and `civicgrid run`."""

    name = "civicgrid.province"
    label = "province"
    verbose_name = _("Province")
