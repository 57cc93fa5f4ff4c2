"""What a plugin distribution declares: a ``PluginConfig`` (a Django ``AppConfig``)
named by an entry point in the group ``civicgrid.plugins``.

This module is imported while settings load, before Django is set up: it must
not import models, and neither may a plugin's ``apps`` module.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.apps import AppConfig

ENTRY_POINT_GROUP = "civicgrid.plugins"


@dataclass(frozen=True)
class Meter:
    """Something a plugin counts and bills: ``Meter("sms", "条", "短信")``."""

    id: str
    unit: str
    name: str
    name_en: str = ""


@dataclass(frozen=True)
class Price:
    """The price of one meter per tenant per month: the first ``free`` units cost
    nothing, each unit after that ``unit_price`` yuan (CNY, up to 4 decimals)."""

    meter: str
    unit_price: Decimal
    free: int = 0


@dataclass(frozen=True)
class PluginInfo:
    """A plugin as discovery saw it, loaded or not."""

    id: str
    entry_point: str
    distribution: str = ""
    version: str = ""
    app_path: str = ""
    problem: str = ""  # why it stays inactive; empty when it loaded

    @property
    def loaded(self) -> bool:
        return not self.problem


class PluginConfig(AppConfig):
    """Subclass this in your distribution's ``apps.py`` and name it in your entry point::

        [project.entry-points."civicgrid.plugins"]
        acme_sms = "acme_sms.apps:AcmeSmsConfig"

    Everything below is read at start-up; ``docs/plugins.md`` explains each field.
    """

    plugin_id: str = ""  # lower_snake_case, unique in the installation, never changed
    verbose_name = ""  # the Chinese name (Django's own field)
    name_en: str = ""
    version: str = ""  # defaults to the distribution's version
    vendor: str = ""  # the vendor's code, as the provincial admin registered it
    vendor_name: str = ""
    core_requires: str = ""  # a PEP 440 specifier against CivicGrid's version, e.g. ">=0.1,<0.2"
    description: str = ""
    required_settings: tuple[str, ...] = ()  # settings (or environment variables) the plugin cannot run without
    meters: tuple[Meter, ...] = ()
    default_prices: tuple[Price, ...] = ()
    hooks_module: str = ""  # defaults to "<package>.hooks"
    is_civicgrid_plugin = True

    def hooks_module_path(self) -> str:
        return self.hooks_module or f"{self.name}.hooks"

    def meter_ids(self) -> set[str]:
        return {m.id for m in self.meters}


def contract_problems(config: type[PluginConfig], core_version: str) -> list[str]:
    """Everything wrong with a declared plugin, in plain words (empty when it fits)."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    from packaging.version import Version

    problems = []
    if not (isinstance(config, type) and issubclass(config, PluginConfig)):
        return ["the entry point does not name a civicgrid.plugins.PluginConfig subclass"]
    if not config.plugin_id or not config.plugin_id.replace("_", "").isalnum() or not config.plugin_id.islower():
        problems.append("plugin_id must be lower_snake_case")
    if not config.core_requires:
        problems.append("core_requires is missing (say which CivicGrid versions the plugin fits)")
    else:
        try:
            spec = SpecifierSet(config.core_requires)
        except InvalidSpecifier:
            problems.append(f"core_requires {config.core_requires!r} is not a PEP 440 specifier")
        else:
            if not spec.contains(Version(core_version), prereleases=True):
                problems.append(f"needs CivicGrid {config.core_requires}, this installation is {core_version}")
    meter_ids = [m.id for m in config.meters]
    if len(set(meter_ids)) != len(meter_ids):
        problems.append("two meters share an id")
    for price in config.default_prices:
        if price.meter not in meter_ids:
            problems.append(f"the default price names an unknown meter {price.meter!r}")
        if Decimal(price.unit_price) < 0 or price.free < 0:
            problems.append("prices and free units cannot be negative")
    return problems


@dataclass
class Discovery:
    """The outcome of looking for plugins at start-up."""

    plugins: list[PluginInfo] = field(default_factory=list)

    @property
    def loaded(self) -> list[PluginInfo]:
        return [p for p in self.plugins if p.loaded]

    @property
    def refused(self) -> list[PluginInfo]:
        return [p for p in self.plugins if not p.loaded]

    def app_paths(self) -> list[str]:
        return [p.app_path for p in self.loaded]
