"""Creating people: province users in public, staff members inside a tenant."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils.translation import gettext as _

from civicgrid.platform.audit.actions import record

from .models import User
from .staff.models import ScopeKind, StaffProfile, StaffRole


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
                        scope_org_unit=None, scope_department=None,
                        acting_user: User | None) -> StaffProfile:
    """A user of the current tenant (the connection's) with one role and scope.

    The scope is an org unit (its subtree), a department, or, with neither, the
    whole tenant. Department handlers always belong to a department."""
    if role == StaffRole.DEPARTMENT_HANDLER and scope_department is None:
        raise ValidationError(_("A department handler belongs to a department."))
    if scope_org_unit is not None and scope_department is not None:
        raise ValidationError(_("A staff member's scope is an org unit or a department, not both."))
    scope_kind = (ScopeKind.ORG_UNIT if scope_org_unit else ScopeKind.DEPARTMENT if scope_department
                  else ScopeKind.TENANT)
    from civicgrid.tenants.models import Tenant

    if connection.schema_name == "public":
        raise RuntimeError("staff members belong to a tenant; no tenant is set")
    tenant = Tenant.objects.get(schema_name=connection.schema_name)
    with transaction.atomic():
        user = User(username=username, full_name=full_name, home_tenant=tenant)
        _set_password(user, password, password_hash)
        user.save()
        profile = StaffProfile.objects.create(user=user, role=role, scope_kind=scope_kind,
                                              scope_org_unit=scope_org_unit, scope_department=scope_department)
        record(action="staff.created", actor=acting_user, target=profile, username=username, role=role)
    return profile


def _set_password(user: User, password: str, password_hash: str) -> None:
    if password_hash:
        user.password = password_hash  # already hashed, e.g. hashed once for many demo accounts
    elif password:
        user.set_password(password)
    else:
        user.set_unusable_password()
