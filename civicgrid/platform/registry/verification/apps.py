from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryVerificationConfig(AppConfig):
    """No models; installed so its templates load the usual way."""

    name = "civicgrid.platform.registry.verification"
    label = "registry_verification"
    verbose_name = _("Registry verification")
