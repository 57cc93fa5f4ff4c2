from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PluginsConfig(AppConfig):
    name = "civicgrid.plugins"
    label = "plugins"
    verbose_name = _("Plugins")

    def ready(self):
        from . import subscribers  # noqa: F401 -- the outbox hands case events to plugins
