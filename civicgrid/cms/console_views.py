"""The console's page for community sites: the sites of the tenant (or of the
operator's area), making one in one step, and adding its editors."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from civicgrid.platform.accounts.access import staff_required
from civicgrid.platform.accounts.staff.models import StaffRole
from civicgrid.platform.org.models import OrgUnit

from . import actions
from .models import CommunitySite

SITE_ROLES = (StaffRole.COUNTY_ADMIN, StaffRole.TOWNSHIP_OPERATOR, StaffRole.COMMUNITY_OPERATOR)


class SiteForm(forms.Form):
    community = forms.ChoiceField(label=_l("Community"))
    slug = forms.CharField(label=_l("Host name prefix"), max_length=40,
                           help_text=_l("Lower-case letters, digits and hyphens: the site answers on <prefix>.<county host>."))

    def __init__(self, *args, communities=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].choices = [(unit.code, f"{unit.name} ({unit.code})") for unit in communities]


class EditorForm(forms.Form):
    username = forms.CharField(label=_l("User name"), max_length=150)
    full_name = forms.CharField(label=_l("Name"), max_length=100)
    password = forms.CharField(label=_l("First password"), min_length=10, widget=forms.PasswordInput)


def _communities(staff):
    units = OrgUnit.objects.filter(level=OrgUnit.Level.VILLAGE, community_site__isnull=True)
    return [unit for unit in units if actions.may_create_site(staff, unit)]


def _sites(staff):
    sites = CommunitySite.objects.select_related("site", "community").order_by("community__path")
    return [site for site in sites if actions.may_create_site(staff, site.community)]


@staff_required(*SITE_ROLES)
def site_list(request):
    staff = request.staff
    form = SiteForm(request.POST or None, communities=_communities(staff))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                site = actions.create_site(community_code=form.cleaned_data["community"],
                                           slug=form.cleaned_data["slug"], acting_staff=staff)
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(request, _("The site of %(name)s is live at %(host)s.")
                                 % {"name": site.community.name, "host": site.host})
                return redirect("cms-sites")
        status = 400
    return render(request, "cms/console/sites.html", {"form": form, "sites": _sites(staff),
                                                      "editor_form": EditorForm()}, status=status)


@staff_required(*SITE_ROLES)
def add_editor(request, slug):
    site = next((item for item in _sites(request.staff) if item.slug == slug), None)
    if site is None or request.method != "POST":
        raise Http404
    form = EditorForm(request.POST)
    if form.is_valid():
        try:
            actions.add_editor(site=site, username=form.cleaned_data["username"],
                               full_name=form.cleaned_data["full_name"], password=form.cleaned_data["password"],
                               acting_user=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("%(user)s now edits the site of %(name)s.")
                             % {"user": form.cleaned_data["username"], "name": site.community.name})
    else:
        messages.error(request, " ".join(f"{form.fields[f].label}: {' '.join(e)}" for f, e in form.errors.items()))
    return redirect("cms-sites")
