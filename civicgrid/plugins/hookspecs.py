"""The hooks a plugin may implement (pluggy). Decorate your functions with
``civicgrid.plugins.hookimpl`` and put them in your ``hooks`` module.

Every hook is called through the current tenant's active subset: a plugin
switched off in a tenant is never called there. Lifecycle and notification
hooks run after the change committed, on a worker, in the tenant's schema; the
others run in the request or task that needs them. A hook that raises is logged
and skipped: the other plugins and the core go on.
"""

from __future__ import annotations

import pluggy

from .types import (
    CaseEvent,
    CategorySpec,
    ImportTarget,
    NavEntry,
    NotificationChannel,
    PeriodicJob,
    RegistryKindSpec,
    SearchDocument,
    Widget,
)

PROJECT = "civicgrid"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


class CivicGridSpec:
    # --- what a plugin brings into a tenant when switched on -----------------------------

    @hookspec
    def civicgrid_case_categories(self) -> list[CategorySpec]:
        """Case categories for the tenant's tree (added on, switched off and back on with the plugin)."""

    @hookspec
    def civicgrid_registry_kinds(self) -> list[RegistryKindSpec]:
        """Care and service groups for the registry (added when the plugin is switched on)."""

    @hookspec
    def civicgrid_tenant_seed(self, tenant) -> None:
        """Put the plugin's starting data into ``tenant`` (its schema is current). Called each
        time the plugin is switched on, and at onboarding for plugins new tenants get: idempotent."""

    @hookspec
    def civicgrid_import_targets(self) -> list[ImportTarget]:
        """The plugin's registries that departments import from files (the registry's import pages)."""

    # --- the case lifecycle (after commit, on a worker) --------------------------------

    @hookspec
    def civicgrid_case_reported(self, event: CaseEvent) -> None:
        """A new case was reported."""

    @hookspec
    def civicgrid_case_transitioned(self, event: CaseEvent) -> None:
        """A case took a step (accepted, dispatched, handled, escalated, ...; also reported and closed)."""

    @hookspec
    def civicgrid_case_closed(self, event: CaseEvent) -> None:
        """A case was closed."""

    # --- the console and the API -------------------------------------------------------

    @hookspec
    def civicgrid_console_nav(self, staff) -> list[NavEntry]:
        """Links for the console's navigation, for this member of staff (return [] to show none)."""

    @hookspec
    def civicgrid_phone_entries(self, staff) -> list[NavEntry]:
        """Buttons on the grid worker's phone app (平安通) home page, for this grid worker
        (an inspection round, a patrol check-in); the page behind should work at 375 px."""

    @hookspec
    def civicgrid_dashboard_widgets(self, staff) -> list[Widget]:
        """Boxes for the console's home page, for this member of staff."""

    @hookspec
    def civicgrid_console_urls(self) -> list:
        """URL patterns served under ``/p/<plugin_id>/`` on tenant hosts (404 where switched off)."""

    @hookspec
    def civicgrid_api_urls(self) -> list:
        """URL patterns served under ``/api/v1/p/<plugin_id>/`` on tenant hosts (404 where switched off)."""

    # --- delivery, search, schedules ------------------------------------------------------

    @hookspec
    def civicgrid_notification_channels(self) -> list[NotificationChannel]:
        """Channels that deliver stored notifications (SMS, WeChat)."""

    @hookspec
    def civicgrid_search_documents(self, since) -> list[SearchDocument]:
        """Documents changed since ``since`` (None: all) for the case search to index."""

    @hookspec
    def civicgrid_periodic_jobs(self) -> list[PeriodicJob]:
        """Jobs run in every tenant that has the plugin switched on."""


# Hooks whose results are lists: callers flatten them.
LIST_HOOKS = {
    "civicgrid_case_categories", "civicgrid_registry_kinds", "civicgrid_console_nav", "civicgrid_phone_entries",
    "civicgrid_dashboard_widgets",
    "civicgrid_console_urls", "civicgrid_api_urls", "civicgrid_notification_channels", "civicgrid_search_documents",
    "civicgrid_periodic_jobs", "civicgrid_import_targets",
}
