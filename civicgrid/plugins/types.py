"""The values that pass between the core and plugins through hooks.

Plain frozen dataclasses: a plugin can build them, test with them and print
them without a database.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class CaseEvent:
    """One step of a case, as the lifecycle hooks hear it (after the step committed)."""

    schema: str
    case_id: int
    number: str
    action: str  # "report", "dispatch", "close", ... (the event engine's action names)
    status: str  # the status the case moved to
    version: int
    data: dict = field(default_factory=dict)  # what the step recorded (department, reason, rating ...)


@dataclass(frozen=True)
class CategorySpec:
    """A case category a plugin contributes. A leaf names its group by ``parent``;
    groups have no parent. Added to a tenant's tree when the plugin is switched on,
    switched off with it, and back on when it is."""

    code: str  # prefix it with your plugin's code to stay clear of the province's
    name: str
    name_en: str = ""
    parent: str = ""
    description: str = ""
    accept_hours: Decimal = Decimal("2")
    handle_hours: Decimal = Decimal("37.5")
    urgency: str = "normal"
    department: str = ""  # the default department's code


@dataclass(frozen=True)
class RegistryKindSpec:
    """A care or service group the registry keeps for the plugin (its own fields)."""

    code: str
    name: str
    fields: tuple[dict, ...] = ()  # {"name", "label", "type", "required", "choices"}
    granted_roles: tuple[str, ...] = ()
    sensitive: bool = False


@dataclass(frozen=True)
class ImportField:
    """A column a department's file can be mapped to when importing a plugin's registry."""

    name: str  # the key in the row's values
    label: str  # shown on the mapping page (a lazy translation)
    required: bool = False
    spellings: tuple[str, ...] = ()  # header texts guessed to mean this field ("许可证编号", "licence no")


@dataclass(frozen=True)
class ImportTarget:
    """A plugin's registry that departments fill from CSV/XLSX through the registry's
    import pipeline (upload, column mapping, staging, per-row reasons, reconciliation
    report, applied whole or not at all, idempotent: the same file twice changes nothing).

    - ``clean(values, context)`` gets one row as ``{field name: text}`` (only mapped
      fields, stripped) and returns the row's clean values as JSON-able data, or raises
      ``ValidationError`` (a dict by field, or a list) with reasons in the active language.
      ``context.grid_id(code)`` resolves a grid code (None when unknown).
    - ``current(keys)`` returns ``{key: clean values}`` for the records already held.
    - ``apply(new, changed, *, actor)`` creates the ``new`` rows and updates the
      ``changed`` ones (lists of clean values), inside the batch's transaction.
    """

    code: str  # "<plugin id>.<what>", e.g. "food_safety.businesses"
    label: str
    fields: tuple[ImportField, ...]
    key: str  # the field that names a record (a unit's code, a licence number)
    clean: Callable[[dict, Any], dict]
    current: Callable[[list[str]], dict]
    apply: Callable[..., Any]


@dataclass(frozen=True)
class NavEntry:
    """A link in the console's navigation. ``url`` is a path on the tenant's host."""

    label: str
    url: str


@dataclass(frozen=True)
class Widget:
    """A box on the console's home page: a title, a figure and a line of text, with a link."""

    title: str
    value: str = ""
    text: str = ""
    url: str = ""


@dataclass(frozen=True)
class SearchDocument:
    """Something the plugin wants found by the case search (the search issue indexes these)."""

    kind: str
    key: str
    title: str
    body: str = ""
    url: str = ""
    updated_at: datetime | None = None


@dataclass(frozen=True)
class PeriodicJob:
    """Work the plugin wants done in each tenant that has it switched on, every ``every``."""

    name: str
    every: timedelta
    run: Callable[[], Any]


@runtime_checkable
class NotificationChannel(Protocol):
    """A way to reach people beyond the inbox (SMS, WeChat). ``deliver`` is called
    after the notification was stored and committed, in the tenant's schema, on a
    worker; it should not raise for an unreachable person, only for a broken channel."""

    code: str
    name: str

    def deliver(self, notification, recipient) -> None: ...

    # Optional: ``send_code(phone, text, reference) -> bool`` texts a one-time code to a
    # phone number that belongs to no user (residents confirming their phone on a
    # community site); ``reference`` is unique per code, for the channel's idempotency.
