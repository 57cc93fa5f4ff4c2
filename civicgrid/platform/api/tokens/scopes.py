"""What a token may do: scopes named ``<area>:<read|write|…>``, declared by each API view.

A view declares ``token_scope``: an area name (``"cases"``: GET, HEAD and OPTIONS need
``cases:read``, every other method ``cases:write``), or a dict of method → scope, or
``ANY_SCOPE`` (any valid token, e.g. who am I). A view that declares nothing refuses every
token (deny by default): a new endpoint is closed to integrations until someone decides
which scope opens it.

A module's (plugin's) API views declare nothing themselves: the plugin framework mounts
them under the area ``module:<plugin_id>`` (``plugins/urls.py`` marks each request with
``TOKEN_AREA``), so ``module:<plugin_id>:read`` and ``module:<plugin_id>:write``, offered
only in a tenant where the module is switched on.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

ANY_SCOPE = "*"
TOKEN_AREA = "token_area"  # the request attribute a mount sets for every view under it
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

SCOPES: dict[str, str] = {
    "org:read": _("Read org units and departments, locate a point's grid"),
    "cases:read": _("Read cases and categories"),
    "cases:write": _("Report cases and take case steps"),
    "registry:read": _("Read and export registry records (masked)"),
    "registry:write": _("Create and edit registry records"),
    "registry:unmask": _("Unmask ID numbers and phones (each one audited)"),
    "registry:verify": _("Verify lists of people against the registry"),
    "assessment:read": _("Read assessment scores"),
    "assessment:write": _("Change assessment weights"),
    "catalog:read": _("Read the category catalogue and calendar"),
    "catalog:write": _("Edit the category catalogue and calendar"),
    "notifications:read": _("Read the acting account's notifications"),
    "notifications:write": _("Mark the acting account's notifications read"),
}


def module_area(plugin_id: str) -> str:
    return f"module:{plugin_id}"


def module_scopes(plugin_id: str, name: str) -> dict[str, str]:
    """The scopes of one module's API, labelled with the module's name."""
    area = module_area(plugin_id)
    return {f"{area}:read": _("Read the module %(module)s") % {"module": name},
            f"{area}:write": _("Add and change in the module %(module)s") % {"module": name}}


def required_scope(view, method: str, area: str | None = None) -> str | None:
    """The scope ``view`` asks of a token for ``method``; None: tokens are refused. ``area``,
    set by the mount a view is served under, stands in for what the view declares."""
    declared = area or getattr(view, "token_scope", None)
    if declared is None or declared == ANY_SCOPE:
        return declared
    if isinstance(declared, dict):
        return declared.get(method) or (declared.get("GET") if method in ("HEAD", "OPTIONS") else None)
    return f"{declared}:{'read' if method in SAFE_METHODS else 'write'}"
