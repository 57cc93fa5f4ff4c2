"""What people do with plugins: publish and price them (provincial admin),
switch them on and off for a tenant (county admin)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tenants.utils import tenant_context

from civicgrid.platform.audit.actions import record
from civicgrid.tenants.models import Tenant

from .billing import month_of, next_month
from .models import Activation, CatalogEntry, Price, Statement
from .seeding import apply_contributions, withdraw_contributions
from .selectors import run_problem


def _entry(plugin_id: str) -> CatalogEntry:
    try:
        return CatalogEntry.objects.select_for_update().get(plugin_id=plugin_id)
    except CatalogEntry.DoesNotExist as exc:
        raise ValidationError(_("There is no plugin %(plugin)s in the catalog.") % {"plugin": plugin_id}) from exc


# --- the province ----------------------------------------------------------------------


def publish_plugin(*, plugin_id: str, published: bool, for_new_tenants: bool | None = None,
                   acting_user) -> CatalogEntry:
    with transaction.atomic():
        entry = _entry(plugin_id)
        if published and not entry.installed:
            raise ValidationError(_("%(plugin)s is not installed here: it cannot be published.")
                                  % {"plugin": entry.plugin_id})
        entry.published = published
        if for_new_tenants is not None:
            entry.for_new_tenants = for_new_tenants and published
        if not published:
            entry.for_new_tenants = False
        entry.save(update_fields=["published", "for_new_tenants", "synced_at"])
        record(action="plugin.publish" if published else "plugin.withdraw", actor=acting_user, target=entry,
               plugin=entry.plugin_id, for_new_tenants=entry.for_new_tenants)
    return entry


def set_price(*, plugin_id: str, meter: str, unit_price, free, effective_from: date, acting_user) -> Price:
    """A new price for one meter from a date on (earlier months keep the price they had)."""
    errors = {}
    with transaction.atomic():
        entry = _entry(plugin_id)
        if meter not in {m["id"] for m in entry.meters}:
            errors["meter"] = _("%(plugin)s has no meter %(meter)s.") % {"plugin": entry.plugin_id, "meter": meter}
        try:
            unit_price = Decimal(str(unit_price)).quantize(Decimal("0.0001"))
            if unit_price < 0:
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            errors["unit_price"] = _("The unit price must be a number of yuan, zero or more.")
        try:
            free = int(free)
            if free < 0:
                raise ValueError
        except (TypeError, ValueError):
            errors["free"] = _("Free units must be a whole number, zero or more.")
        # A price bills the month it starts in and every month after: a billed month keeps its price.
        billed = (Statement.objects.filter(plugin=entry, period__gte=month_of(effective_from))
                  .order_by("-period").values_list("period", flat=True).first())
        if billed is not None:
            errors["effective_from"] = _("%(month)s is already billed: a new price can start from %(next)s on.") % {
                "month": f"{billed:%Y-%m}", "next": next_month(billed).isoformat()}
        if errors:
            raise ValidationError(errors)
        price, _created = Price.objects.update_or_create(
            plugin=entry, meter=meter, effective_from=effective_from,
            defaults={"unit_price": unit_price, "free": free, "set_by": acting_user})
        record(action="plugin.price", actor=acting_user, target=entry, plugin=entry.plugin_id, meter=meter,
               unit_price=str(unit_price), free=free, effective_from=effective_from.isoformat())
    return price


# --- a tenant ------------------------------------------------------------------------


def enable_plugin(*, tenant: Tenant, plugin_id: str, acting_user) -> Activation:
    """Switch a published plugin on for one tenant: its hooks, pages, API and jobs
    start there, and what it contributes (categories, registry kinds, seed data) is put in."""
    with transaction.atomic():
        entry = _entry(plugin_id)
        reason = run_problem(entry) or ("" if entry.published else _("it is not published"))
        if reason:
            raise ValidationError(_("%(plugin)s cannot be switched on: %(reason)s.")
                                  % {"plugin": entry.name, "reason": reason})
        locked = Tenant.objects.select_for_update().get(pk=tenant.pk)
        activation, _created = Activation.objects.get_or_create(tenant=locked, plugin=entry)
        activation.enabled, activation.enabled_at, activation.disabled_at = True, timezone.now(), None
        activation.changed_by = acting_user
        activation.save()
        _set_active(locked, tenant, add=plugin_id)
        with tenant_context(locked):
            apply_contributions(plugin_id, locked)
            record(action="plugin.enable", actor=acting_user, target=entry, plugin=plugin_id)
    return activation


def disable_plugin(*, tenant: Tenant, plugin_id: str, acting_user) -> Activation:
    """Switch a plugin off for one tenant: its pages and API answer 404, its hooks and
    jobs stop, its categories are switched off; its data stays for the day it is back."""
    with transaction.atomic():
        entry = _entry(plugin_id)
        locked = Tenant.objects.select_for_update().get(pk=tenant.pk)
        activation = Activation.objects.filter(tenant=locked, plugin=entry, enabled=True).first()
        if activation is None:
            raise ValidationError(_("%(plugin)s is not switched on here.") % {"plugin": entry.name})
        activation.enabled, activation.disabled_at, activation.changed_by = False, timezone.now(), acting_user
        activation.save()
        _set_active(locked, tenant, remove=plugin_id)
        with tenant_context(locked):
            withdraw_contributions(plugin_id)
            record(action="plugin.disable", actor=acting_user, target=entry, plugin=plugin_id)
    return activation


def _set_active(locked: Tenant, given: Tenant, *, add: str = "", remove: str = "") -> None:
    active = set(locked.active_plugins or ()) | ({add} if add else set())
    active.discard(remove)
    locked.active_plugins = sorted(active)
    locked.save(update_fields=["active_plugins"])
    # The caller's objects see the change at once (the rest of this request, this task).
    for tenant in (given, getattr(connection, "tenant", None)):
        if getattr(tenant, "pk", None) == locked.pk:
            tenant.active_plugins = list(locked.active_plugins)


def enable_for_new_tenant(*, tenant=None, acting_user=None) -> int:
    """switching on the province's plugins for new tenants"""
    tenant = tenant or connection.tenant
    count = 0
    for entry in CatalogEntry.objects.filter(for_new_tenants=True, published=True, installed=True, problem=""):
        enable_plugin(tenant=tenant, plugin_id=entry.plugin_id, acting_user=acting_user)
        count += 1
    return count
