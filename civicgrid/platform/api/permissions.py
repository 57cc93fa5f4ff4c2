"""API permissions. The default is DenyAll: a view that declares nothing serves no one.

Authenticated callers who do not belong here get 404, the same as for
something that does not exist.
"""

from rest_framework.exceptions import NotFound
from rest_framework.permissions import BasePermission

from civicgrid.platform.accounts.models import ProvinceRole


class DenyAll(BasePermission):
    def has_permission(self, request, view):
        return False


class _NotFoundUnlessAllowed(BasePermission):
    def has_permission(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return False  # 401/403: sign in first
        if not self.allowed(request):
            raise NotFound
        return True

    def allowed(self, request) -> bool:
        raise NotImplementedError


class IsTenantStaff(_NotFoundUnlessAllowed):
    roles: tuple[str, ...] = ()

    def allowed(self, request) -> bool:
        staff = getattr(request._request, "staff", None)
        return bool(staff) and (not self.roles or staff.role in self.roles)


class IsProvincialAdmin(_NotFoundUnlessAllowed):
    def allowed(self, request) -> bool:
        return request.tenant.schema_name == "public" and request.user.province_role == ProvinceRole.PROVINCIAL_ADMIN


class IsCmsMember(_NotFoundUnlessAllowed):
    """Wagtail's admin API (its page, image and document choosers): the tenant's members
    in a CMS role, the same people the admin's middleware lets in."""

    def allowed(self, request) -> bool:
        from civicgrid.cms.selectors import cms_member

        return cms_member(request.user) is not None
