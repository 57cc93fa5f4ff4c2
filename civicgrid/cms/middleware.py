from django.http import Http404

from .selectors import cms_member

ADMIN_PREFIX = "/cms-admin/"


class CmsAdminMembershipMiddleware:
    """Wagtail's permissions are global to a user (groups live in public with the users):
    on a tenant's host its admin answers only this tenant's members in a CMS role.
    Anyone else signed in gets 404, as everywhere in the console."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith(ADMIN_PREFIX) and request.user.is_authenticated and cms_member(request.user) is None:
            raise Http404
        return self.get_response(request)
