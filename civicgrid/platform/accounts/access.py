"""Access checks shared by console views and the API. Missing and forbidden look the same."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import Http404

from .models import ProvinceRole


def staff_required(*roles: str):
    """Console views: anonymous users go to sign-in; anyone else without an active
    membership here (or without one of ``roles``) gets 404."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            staff = request.staff
            if not staff or (roles and staff.role not in roles):
                raise Http404
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def province_role_required(*roles: str):
    roles = roles or tuple(ProvinceRole.values)

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if request.tenant.schema_name != "public" or request.user.province_role not in roles:
                raise Http404
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def member_here_required(view):
    """Pages about one's own account (second factor, password): anonymous users go to
    sign-in; someone signed in who does not belong to this site gets 404."""
    from .selectors import may_sign_in_here

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not may_sign_in_here(request.user):
            raise Http404
        return view(request, *args, **kwargs)

    return wrapped
