from django.http import Http404

from civicgrid.platform.accounts.selectors import staff_profile_for
from civicgrid.platform.accounts.staff.models import StaffRole

ADMIN_PREFIX = "/cms-admin/"
# Who may open Wagtail's admin here at all; what each may touch there is Wagtail's page
# and collection permissions, granted per site by ``cms.actions``.
CMS_ROLES = {StaffRole.COUNTY_ADMIN, StaffRole.TOWNSHIP_OPERATOR, StaffRole.COMMUNITY_OPERATOR,
             StaffRole.COMMUNITY_EDITOR}


class CmsAdminMembershipMiddleware:
    """Wagtail's permissions are global to a user (groups live in public with the users):
    on a tenant's host its admin answers only this tenant's members in a CMS role.
    Anyone else signed in gets 404, as everywhere in the console."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith(ADMIN_PREFIX) and request.user.is_authenticated:
            profile = staff_profile_for(request.user, site_editors=True)
            if profile is None or profile.role not in CMS_ROLES:
                raise Http404
        return self.get_response(request)
