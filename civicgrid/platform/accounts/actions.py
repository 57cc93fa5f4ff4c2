"""Creating people: province users in public, staff members inside a tenant."""

from __future__ import annotations

from django.db import connection, transaction

from civicgrid.platform.audit.actions import record

from .models import User
from .staff.models import ScopeKind, StaffProfile


def create_province_user(*, username: str, password: str = "", password_hash: str = "", province_role: str,
                         full_name: str = "", acting_user: User | None) -> User:
    connection.set_schema_to_public()
    with transaction.atomic():
        user = User(username=username, full_name=full_name, province_role=province_role)
        _set_password(user, password, password_hash)
        user.save()
        record(action="user.created", actor=acting_user, target=user, role=province_role)
    return user


def create_staff_member(*, username: str, password: str = "", password_hash: str = "", role: str,
                        full_name: str = "",
                        scope_kind: str = ScopeKind.TENANT, scope_code: str = "",
                        acting_user: User | None) -> StaffProfile:
    """A user of the current tenant (the connection's) with one role and scope."""
    from civicgrid.tenants.models import Tenant

    if connection.schema_name == "public":
        raise RuntimeError("staff members belong to a tenant; no tenant is set")
    tenant = Tenant.objects.get(schema_name=connection.schema_name)
    with transaction.atomic():
        user = User(username=username, full_name=full_name, home_tenant=tenant)
        _set_password(user, password, password_hash)
        user.save()
        profile = StaffProfile.objects.create(user=user, role=role, scope_kind=scope_kind, scope_code=scope_code)
        record(action="staff.created", actor=acting_user, target=profile, username=username, role=role)
    return profile


def _set_password(user: User, password: str, password_hash: str) -> None:
    if password_hash:
        user.password = password_hash  # already hashed, e.g. hashed once for many demo accounts
    elif password:
        user.set_password(password)
    else:
        user.set_unusable_password()
