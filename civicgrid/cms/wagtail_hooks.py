from django.http import Http404
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from .selectors import cms_member, community_for_request, on_community_host


@hooks.register("before_serve_document")
def only_this_sites_documents(document, request):
    """On a community's host only its own collection's documents are served; on the
    county's host only to the members who work on the sites."""
    if not on_community_host(request):
        if cms_member(request.user) is None:
            raise Http404
        return None
    community = community_for_request(request)
    if community is None or document.collection_id != community.collection_id:
        raise Http404
    return None


@hooks.register("register_admin_menu_item")
def back_to_console():
    return MenuItem(_("Back to the console"), "/", icon_name="arrow-left", order=10000)
