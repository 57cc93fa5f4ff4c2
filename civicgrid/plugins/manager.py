"""The plugin manager (pluggy) and each tenant's view of it.

Every loaded plugin's hooks are registered once per process under its plugin
id. A tenant calls only the plugins it has switched on: ``tenant_hooks()``
hands out pluggy subset callers, cached by the tenant's set of active plugins
(read from the tenant row the request or task already holds), so a change of
activation is a new key and the next call sees it -- in every process, with no
query and no invalidation message.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import logging
import os
from importlib import import_module

import pluggy
from django.apps import apps
from django.conf import settings
from django.db import connection, transaction

from .contract import PluginConfig
from .hookspecs import LIST_HOOKS, PROJECT, CivicGridSpec

logger = logging.getLogger("civicgrid.plugins")

# The plugin whose hook is running: lets ``meter()`` know who is counting.
current_plugin: contextvars.ContextVar[str | None] = contextvars.ContextVar("civicgrid_plugin", default=None)

_savepoints: contextvars.ContextVar[bool] = contextvars.ContextVar("civicgrid_plugin_savepoints", default=False)

_manager: pluggy.PluginManager | None = None
_problems: dict[str, str] = {}  # plugin id -> why it loaded but cannot run here
_subsets: dict[tuple[str, ...], TenantHooks] = {}


@functools.cache  # the app registry does not change once loaded; meter() asks on every use
def plugin_configs() -> dict[str, PluginConfig]:
    """The loaded plugins' app configs by plugin id."""
    return {config.plugin_id: config for config in apps.get_app_configs()
            if getattr(config, "is_civicgrid_plugin", False)}


def plugin_setting(name: str, default=None):
    """A plugin's setting: Django's settings first, then the environment."""
    return getattr(settings, name, None) or os.environ.get(name) or default


def runtime_problems() -> dict[str, str]:
    plugin_manager()
    return dict(_problems)


def plugin_manager() -> pluggy.PluginManager:
    global _manager
    if _manager is None:
        manager = pluggy.PluginManager(PROJECT)
        manager.add_hookspecs(CivicGridSpec)
        for plugin_id, config in sorted(plugin_configs().items()):
            _register(manager, plugin_id, config)
        _manager = manager
    return _manager


def _register(manager: pluggy.PluginManager, plugin_id: str, config: PluginConfig) -> None:
    missing = [name for name in config.required_settings if not plugin_setting(name)]
    if missing:
        _problems[plugin_id] = f"required settings are not set: {', '.join(missing)}"
        return
    try:
        module = import_module(config.hooks_module_path())
    except ModuleNotFoundError as exc:
        if exc.name != config.hooks_module_path():
            _problems[plugin_id] = f"its hooks failed to import: {exc}"
            return
        module = None  # a plugin may bring only models and pages
    except Exception as exc:  # noqa: BLE001 -- a broken plugin stays inactive, the platform goes on
        _problems[plugin_id] = f"its hooks failed to import: {type(exc).__name__}: {exc}"
        return
    hooks = _isolated(plugin_id, module)
    unknown = sorted(name for name in vars(hooks) if name.startswith("civicgrid_") and not hasattr(CivicGridSpec, name))
    if unknown:  # a misspelt hook would otherwise be registered and never called
        _problems[plugin_id] = f"hooks not in the specification: {', '.join(unknown)}"
    else:
        try:
            manager.register(hooks, name=plugin_id)
        except Exception as exc:  # pluggy refuses arguments the specification does not have
            _problems[plugin_id] = f"its hooks do not fit the specification: {exc}"
    if plugin_id in _problems:
        logger.warning("plugin %s cannot run: %s", plugin_id, _problems[plugin_id])


class PluginHooks:
    """What pluggy registers for one plugin (hashable by identity, as pluggy needs)."""

    def __init__(self, plugin_id: str, **hooks):
        self.plugin_id = plugin_id
        for name, function in hooks.items():
            setattr(self, name, function)

    def __repr__(self):
        return f"<hooks of {self.plugin_id}>"


def _isolated(plugin_id: str, module) -> PluginHooks:
    """The module's hook implementations, each wrapped so that a plugin's exception
    is logged and skipped rather than stopping the hook for everyone after it."""
    wrapped = {}
    for name in dir(module):
        function = getattr(module, name)
        if name.startswith("civicgrid_") and callable(function) and hasattr(function, f"{PROJECT}_impl"):
            wrapped[name] = _guard(plugin_id, function)
    return PluginHooks(plugin_id, **wrapped)


def _guard(plugin_id: str, function):
    @functools.wraps(function)  # pluggy reads the argument names through __wrapped__
    def call(*args, **kwargs):
        return call_as_plugin(plugin_id, function, *args, **kwargs)

    return call


@contextlib.contextmanager
def savepoint_per_plugin():
    """Around hook calls made inside a transaction (the outbox relay, switching a plugin on):
    each plugin call gets a savepoint, so a database error in one plugin undoes only that
    plugin's writes, not the others' nor the caller's. Decided once here rather than per
    call, because asking the connection costs more than the hook call itself."""
    token = _savepoints.set(connection.in_atomic_block)
    try:
        yield
    finally:
        _savepoints.reset(token)


def call_as_plugin(plugin_id: str, function, *args, **kwargs):
    """Run plugin code: ``meter()`` knows whose it is, and an exception is logged, not raised."""
    token = current_plugin.set(plugin_id)
    try:
        if _savepoints.get():
            with transaction.atomic():
                return function(*args, **kwargs)
        return function(*args, **kwargs)
    except Exception:
        logger.exception("plugin %s: %s failed", plugin_id, getattr(function, "__qualname__", function))
        return None
    finally:
        current_plugin.reset(token)


class TenantHooks:
    """One attribute per hook: a caller limited to the plugins in ``active``."""

    def __init__(self, manager: pluggy.PluginManager, active: frozenset[str]):
        self.active = frozenset(name for name in active if manager.has_plugin(name))
        removed = [plugin for name, plugin in manager.list_name_plugin() if name not in self.active]
        for name in CivicGridSpec.__dict__:
            if name.startswith("civicgrid_"):
                setattr(self, name, manager.subset_hook_caller(name, removed))

    def by_plugin(self, hook: str, **kwargs) -> list[tuple[str, object]]:
        """Each active plugin's items from a list hook, with the plugin's id."""
        return [(impl.plugin_name, item) for impl in getattr(self, hook).get_hookimpls()
                for item in (impl.function(**kwargs) or [])]

    def collect(self, hook: str, **kwargs) -> list:
        """A list hook's results from every active plugin, flattened."""
        results = getattr(self, hook)(**kwargs)
        if hook not in LIST_HOOKS:
            return results
        return [item for result in results if result for item in result]


def active_plugin_ids(tenant=None) -> tuple[str, ...]:
    tenant = connection.tenant if tenant is None else tenant
    return tuple(getattr(tenant, "active_plugins", None) or ())


def switched_off_here(module_name: str) -> bool:
    """Whether code in ``module_name`` belongs to a plugin the current tenant has not
    switched on (its tasks then do nothing there)."""
    config = apps.get_containing_app_config(module_name)
    if not getattr(config, "is_civicgrid_plugin", False):
        return False
    if config.plugin_id not in active_plugin_ids():
        logger.info("plugin %s is switched off in %s: %s not run", config.plugin_id, connection.schema_name,
                    module_name)
        return True
    return False


def tenant_hooks(tenant=None) -> TenantHooks:
    """The hooks of the plugins switched on in ``tenant`` (default: the current one)."""
    return hooks_for(active_plugin_ids(tenant))


def hooks_for(plugin_ids: tuple[str, ...]) -> TenantHooks:
    """The hooks of exactly these plugins (one plugin's: ``hooks_for((plugin_id,))``)."""
    hooks = _subsets.get(plugin_ids)
    if hooks is None:
        hooks = _subsets[plugin_ids] = TenantHooks(plugin_manager(), frozenset(plugin_ids))
    return hooks


def results_by_plugin(hook: str, **kwargs) -> list[tuple[str, object]]:
    """Each registered plugin's answer to ``hook``, with its id (URLs are mounted per plugin)."""
    caller = getattr(plugin_manager().hook, hook)
    return [(impl.plugin_name, impl.function(**kwargs)) for impl in caller.get_hookimpls()]


def reset() -> None:
    """Forget the manager and the cached subsets (tests that install plugins)."""
    global _manager
    _manager = None
    _problems.clear()
    _subsets.clear()
    plugin_configs.cache_clear()
