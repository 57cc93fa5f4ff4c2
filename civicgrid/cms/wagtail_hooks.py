from django.http import Http404
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from .models import CommunitySite


@hooks.register("before_serve_document")
def only_this_sites_documents(document, request):
    """On a community's host only its own collection's documents are served; on the
    county's host only to the members who work on the sites."""
    if getattr(request.tenant, "domain_serves", "") != "community_site":
        from civicgrid.platform.accounts.selectors import staff_profile_for

        if staff_profile_for(request.user, site_editors=True) is None:
            raise Http404
        return None
    from wagtail.models import Site

    site = Site.find_for_request(request)
    community = CommunitySite.objects.filter(site=site).first() if site else None
    if community is None or document.collection_id != community.collection_id:
        raise Http404
    return None


@hooks.register("register_admin_menu_item")
def back_to_console():
    return MenuItem(_("Back to the console"), "/", icon_name="arrow-left", order=10000)
