"""The inbox page: every notification of the signed-in person, unread first, with
marking read one by one or all at once. Open pages learn of new ones over the
socket (``static/civicgrid/live.js``); this page is where they all are."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from civicgrid.platform.accounts.access import staff_required

from . import actions
from .selectors import inbox

PAGE_SIZE = 30


@staff_required()
def inbox_page(request):
    page = Paginator(inbox(request.user).select_related("case"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "notifications/inbox.html", {"page": page})


@staff_required()
@require_POST
def read(request, pk):
    """Mark one read, then open what it is about (a toast's link) or go back to the inbox."""
    notification = actions.mark_read(user=request.user, notification_id=pk)
    # Only the notification's own link, and only a path on this site.
    if request.POST.get("open") and notification.url.startswith("/") and not notification.url.startswith("//"):
        return redirect(notification.url)
    return redirect("notifications:inbox")


@staff_required()
@require_POST
def read_all(request):
    marked = actions.mark_all_read(user=request.user)
    if marked:
        messages.success(request, _("%(n)d notifications marked read.") % {"n": marked})
    return redirect("notifications:inbox")
