from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiTokensConfig(AppConfig):
    name = "civicgrid.platform.api.tokens"
    label = "api_tokens"
    verbose_name = _("API tokens")
    default_auto_field = "django.db.models.BigAutoField"
