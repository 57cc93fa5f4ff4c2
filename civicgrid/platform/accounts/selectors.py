"""Who someone is in the current schema."""

from __future__ import annotations

from django.db import connection

from .models import User
from .staff.models import StaffProfile, StaffRole


def in_public_schema() -> bool:
    return connection.schema_name == "public"


def staff_profile_for(user: User, *, site_editors: bool = False) -> StaffProfile | None:
    """The user's active membership of the current tenant, or None (also in public).
    Community site editors are members only of the CMS (``site_editors=True``):
    the console, the API and the sockets do not know them."""
    if not user.is_authenticated or in_public_schema() or not user.is_active:
        return None
    if user.home_tenant_id != getattr(connection.tenant, "pk", None):
        return None
    profile = (StaffProfile.objects.select_related("scope_org_unit", "scope_department")
               .filter(user=user, is_active=True)
               .exclude(role__in=[] if site_editors else [StaffRole.COMMUNITY_EDITOR]).first())
    if profile is not None:
        profile.user = user  # the request's user: no second query for it
    return profile


def may_sign_in_here(user: User) -> bool:
    """Province users sign in on the province site; staff only on their own tenant's."""
    if in_public_schema():
        return bool(user.province_role) and user.home_tenant_id is None
    return staff_profile_for(user, site_editors=True) is not None  # editors sign in for the CMS
