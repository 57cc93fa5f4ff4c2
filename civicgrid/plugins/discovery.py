"""Finding plugins when settings load.

Every distribution's entry point in the group ``civicgrid.plugins`` is loaded
here, checked against the contract and the core's version, and filtered by the
allow and deny lists (``CIVICGRID_PLUGINS_ALLOW`` / ``CIVICGRID_PLUGINS_DENY``,
comma-separated plugin ids). The ones that pass become tenant apps, so their
tables exist in every schema. Nothing a plugin does can stop start-up: a plugin
that fails to import, or does not fit, is listed with the reason and stays inactive.
"""

from __future__ import annotations

import logging
import os
from importlib import metadata

from .contract import ENTRY_POINT_GROUP, Discovery, PluginInfo, contract_problems

logger = logging.getLogger("civicgrid.plugins")

_discovery: Discovery | None = None


def core_version() -> str:
    from civicgrid import __version__

    return __version__


def _id_list(name: str) -> set[str]:
    return {part.strip() for part in os.environ.get(name, "").split(",") if part.strip()}


def discover(*, allow: set[str] | None = None, deny: set[str] | None = None) -> Discovery:
    """Look for plugins (once per process; ``rediscover`` for tests)."""
    global _discovery
    if _discovery is None:
        _discovery = _discover(allow=_id_list("CIVICGRID_PLUGINS_ALLOW") if allow is None else allow,
                               deny=_id_list("CIVICGRID_PLUGINS_DENY") if deny is None else deny)
    return _discovery


def _discover(*, allow: set[str], deny: set[str]) -> Discovery:
    found = Discovery()
    seen: set[str] = set()
    for entry_point in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name):
        info = _inspect(entry_point, allow=allow, deny=deny, seen=seen)
        seen.add(info.id)
        found.plugins.append(info)
        if info.problem:
            logger.warning("plugin %s stays inactive: %s", info.id, info.problem)
    return found


def _inspect(entry_point, *, allow: set[str], deny: set[str], seen: set[str]) -> PluginInfo:
    distribution = getattr(entry_point.dist, "name", "") or ""
    version = getattr(entry_point.dist, "version", "") or ""
    base = {"id": entry_point.name, "entry_point": entry_point.value, "distribution": distribution,
            "version": version}
    if entry_point.name in deny:
        return PluginInfo(**base, problem="on the deny list (CIVICGRID_PLUGINS_DENY)")
    if allow and entry_point.name not in allow:
        return PluginInfo(**base, problem="not on the allow list (CIVICGRID_PLUGINS_ALLOW)")
    try:
        config = entry_point.load()
    except BaseException as exc:  # noqa: BLE001 -- a plugin must never stop start-up, whatever it raises
        if isinstance(exc, KeyboardInterrupt):
            raise
        return PluginInfo(**base, problem=f"failed to import: {type(exc).__name__}: {exc}")
    problems = contract_problems(config, core_version())
    plugin_id = getattr(config, "plugin_id", "") or entry_point.name
    if not problems and plugin_id != entry_point.name:
        problems.append(f"the entry point is named {entry_point.name!r} but plugin_id is {plugin_id!r}")
    if plugin_id in seen:
        problems.append("another distribution already provides this plugin id")
    if problems:
        return PluginInfo(**base, problem="; ".join(problems))
    base["version"] = config.version or version
    return PluginInfo(**base, app_path=f"{config.__module__}.{config.__qualname__}")


def rediscover(**kwargs) -> Discovery:
    """Forget what was found and look again (tests)."""
    global _discovery
    _discovery = None
    return discover(**kwargs)
