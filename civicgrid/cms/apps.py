from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CmsConfig(AppConfig):
    name = "civicgrid.cms"
    label = "cms"
    verbose_name = _("Community sites")
    default_auto_field = "django.db.models.BigAutoField"
