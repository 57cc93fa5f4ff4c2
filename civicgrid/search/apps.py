from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SearchConfig(AppConfig):
    name = "civicgrid.search"
    label = "search"
    verbose_name = _("Search")

    def ready(self):
        from . import subscribers  # noqa: F401 -- the outbox queues changed cases for indexing
