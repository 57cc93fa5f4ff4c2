from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import get_language

from civicgrid.plugins.manager import active_plugin_ids, plugin_configs
from civicgrid.plugins.urls import api_plugin_ids

from .models import ApiToken
from .scopes import SCOPES, module_scopes


def tokens() -> QuerySet[ApiToken]:
    return ApiToken.objects.select_related("acts_as").order_by("-created_at", "-pk")


def usable_token(token_hash: str) -> ApiToken | None:
    """The token with this hash in the current tenant, if neither revoked nor expired."""
    return (ApiToken.objects.select_related("acts_as")
            .filter(token_hash=token_hash, revoked_at__isnull=True, expires_at__gt=timezone.now()).first())


def scopes_here() -> dict[str, str]:
    """The scopes a token of the current tenant may be given, with their labels: the core's,
    and read and write of each module switched on here that serves an API."""
    english = (get_language() or "").startswith("en")
    scopes = dict(SCOPES)
    active, configs = set(active_plugin_ids()), plugin_configs()
    for plugin_id in api_plugin_ids():
        if plugin_id in active and plugin_id in configs:
            config = configs[plugin_id]
            name = (config.name_en if english and config.name_en else config.verbose_name) or plugin_id
            scopes.update(module_scopes(plugin_id, name))
    return scopes
