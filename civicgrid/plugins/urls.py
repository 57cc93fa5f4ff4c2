"""Plugins' pages and API routes, mounted per plugin and answered only where the
plugin is switched on.

Each installed plugin's patterns are mounted at ``p/<plugin_id>/`` (console) and
``api/v1/p/<plugin_id>/`` (API) when the URLconf loads. Every view is wrapped so
that in a tenant without the plugin, or with it switched off, the answer is 404
and the view never runs.

Both mounts also declare the views' token scope, ``module:<plugin_id>`` (read for GET,
HEAD and OPTIONS, write otherwise), here rather than in each view: a vendor's endpoint
cannot forget it, nor claim a core scope (a REST view among the console's pages included).
"""

from __future__ import annotations

import functools

from django.http import JsonResponse
from django.shortcuts import render
from django.urls import URLPattern, URLResolver, include, path
from django.utils.translation import gettext

from civicgrid.platform.api.tokens.scopes import TOKEN_AREA, module_area

from .manager import active_plugin_ids, results_by_plugin


def only_where_active(plugin_id: str, view):
    token_area = module_area(plugin_id)

    @functools.wraps(view)
    def guarded(request, *args, **kwargs):
        if plugin_id not in active_plugin_ids(getattr(request, "tenant", None)):
            return _not_found(request)
        setattr(request, TOKEN_AREA, token_area)  # the token authentication reads it, not the view's own
        return view(request, *args, **kwargs)

    for attribute in ("csrf_exempt", "cls", "view_class", "initkwargs"):  # DRF and CSRF read these
        if hasattr(view, attribute):
            setattr(guarded, attribute, getattr(view, attribute))
    return guarded


def _not_found(request):
    """The not-found answer, made here in the request's own thread: a raised Http404 is turned
    into its page by Django's ASGI handler on another thread, where the tenant's connection
    is not set (under daphne that page failed, a 500)."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": gettext("Not found.")}, status=404)
    return render(request, "404.html", status=404)


def guard(patterns: list, plugin_id: str) -> list:
    """The same patterns with every view (at any depth of ``include``) guarded."""
    guarded = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = guard(list(pattern.url_patterns), plugin_id)
            guarded.append(URLResolver(pattern.pattern, inner, pattern.default_kwargs, pattern.app_name,
                                       pattern.namespace))
        elif isinstance(pattern, URLPattern):
            guarded.append(URLPattern(pattern.pattern, only_where_active(plugin_id, pattern.callback),
                                      pattern.default_args, pattern.name))
    return guarded


def _mounted(hook: str, prefix: str, namespace: str) -> list:
    mounts = []
    for plugin_id, patterns in results_by_plugin(hook):
        if patterns:
            mounts.append(path(f"{prefix}{plugin_id}/", include((guard(list(patterns), plugin_id), plugin_id),
                                                                namespace=namespace.format(plugin_id))))
    return mounts


def console_urlpatterns() -> list:
    """Reverse a plugin's page as ``"<plugin_id>:<name>"``."""
    return _mounted("civicgrid_console_urls", "p/", "{}")


def api_urlpatterns() -> list:
    """Reverse a plugin's API route as ``"api-<plugin_id>:<name>"``."""
    return _mounted("civicgrid_api_urls", "api/v1/p/", "api-{}")


def api_plugin_ids() -> list[str]:
    """The plugins that serve API routes (whose scopes a token may be given)."""
    return [plugin_id for plugin_id, patterns in results_by_plugin("civicgrid_api_urls") if patterns]
