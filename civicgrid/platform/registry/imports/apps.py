from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryImportsConfig(AppConfig):
    name = "civicgrid.platform.registry.imports"
    label = "registry_imports"
    verbose_name = _("Registry imports")
