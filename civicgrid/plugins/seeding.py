"""What a plugin puts into a tenant when switched on, and takes back (switches
off, never deletes) when switched off. Runs in the tenant's schema."""

from __future__ import annotations

from decimal import Decimal

from .manager import hooks_for, savepoint_per_plugin


def apply_contributions(plugin_id: str, tenant) -> None:
    from civicgrid.platform.cases.models import Category
    from civicgrid.platform.registry.models import CareKind

    hooks = hooks_for((plugin_id,))  # this plugin's, whatever else the tenant has on
    specs = hooks.collect("civicgrid_case_categories")
    known = {c.code: c for c in Category.objects.filter(code__in=[s.code for s in specs] + [s.parent for s in specs])}
    for order, spec in enumerate(sorted(specs, key=lambda s: bool(s.parent)), start=1000):  # groups first
        category = known.get(spec.code)
        if category is None:
            known[spec.code] = Category.objects.create(
                code=spec.code, name=spec.name, name_en=spec.name_en, description=spec.description,
                parent=known.get(spec.parent), accept_hours=Decimal(spec.accept_hours),
                handle_hours=Decimal(spec.handle_hours), urgency=spec.urgency, department_code=spec.department,
                sort_order=order)
        elif not category.is_active:
            category.is_active = True
            category.save(update_fields=["is_active"])
    for kind in hooks.collect("civicgrid_registry_kinds"):
        CareKind.objects.get_or_create(code=kind.code, defaults={
            "name": kind.name, "fields": list(kind.fields), "granted_roles": list(kind.granted_roles),
            "is_sensitive": kind.sensitive})
    with savepoint_per_plugin():
        hooks.civicgrid_tenant_seed(tenant=tenant)


def withdraw_contributions(plugin_id: str) -> None:
    from civicgrid.platform.cases.models import Category

    codes = [spec.code for spec in hooks_for((plugin_id,)).collect("civicgrid_case_categories")]
    Category.objects.filter(code__in=codes).update(is_active=False)
