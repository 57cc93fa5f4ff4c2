from django.utils.functional import SimpleLazyObject

from .selectors import staff_profile_for


class TenantMembershipMiddleware:
    """Attaches ``request.staff``: the user's membership of this tenant, or None.

    A session is valid on every host of the installation, so being signed in
    says nothing about this tenant; views decide by ``request.staff``.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.staff = SimpleLazyObject(lambda: staff_profile_for(request.user))
        return self.get_response(request)
