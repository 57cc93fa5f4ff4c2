"""What every new tenant's event engine starts with: the province's category tree.

Runs as an onboarding step (``CIVICGRID_ONBOARDING_STEPS``) inside the
onboarding transaction, in the new tenant's schema; county admins edit the
categories and add routing rules afterwards.
"""

from __future__ import annotations

from .defaults import DEFAULT_CATEGORIES
from .models import Category


def seed_categories(*, tenant=None, acting_user=None) -> int:
    """seeding the case categories"""
    made: dict[str, Category] = {c.code: c for c in Category.objects.all()}
    created = 0
    for order, item in enumerate(DEFAULT_CATEGORIES):
        if item.code in made:
            continue
        made[item.code] = Category.objects.create(
            code=item.code, name=item.name, name_en=item.name_en, description=item.description,
            parent=made[item.parent] if item.parent else None, department_code=item.department,
            accept_hours=item.accept_hours, handle_hours=item.handle_hours, urgency=item.urgency,
            sort_order=order,
        )
        created += 1
    return created
