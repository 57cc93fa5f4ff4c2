from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsoleConfig(AppConfig):
    """Server-rendered pages: templates, static assets and the tenant console views."""

    name = "civicgrid.platform.console"
    label = "console"
    verbose_name = _("Console")
