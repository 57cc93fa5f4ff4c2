from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "civicgrid.platform.notifications"
    label = "notifications"
    verbose_name = _("Notifications")

    def ready(self):
        from . import realtime  # noqa: F401 -- the outbox nudges open pages after each relay
