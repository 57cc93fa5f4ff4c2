"""What residents do on a community site: confirm their phone, report a problem, follow
it, rate it, vote. Every form has CSRF; every form that sends a text or makes a case
has the challenge; every one is rate-limited per address (and per phone where there is
one). A wrong tracking pair and another community's case get the same answer as a
number that does not exist."""

from __future__ import annotations

import mimetypes

import segno
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from civicgrid.platform.cases import actions as case_actions
from civicgrid.platform.registry import protection
from civicgrid.platform.security.ratelimits import over_limit

from . import actions
from . import phone as phones
from .forms import CodeForm, PhoneForm, RatingForm, ReportForm, TrackForm, VoteForm
from .models import CommunitySite, SiteImage, SiteRendition, TrackPage
from .selectors import (
    cms_member,
    community_for_request,
    community_grids,
    consultation_results,
    has_voted,
    masked_text,
    may_rate,
    on_community_host,
    public_timeline,
    tracked_case,
)

# (requests, period) per client address unless said otherwise.
RATES = {
    "phone-send": "5/h",  # and per phone number
    "phone-send-ip": "20/h",
    "phone-confirm": "20/10m",
    "report": "20/h",
    "report-phone": "5/h",  # accepted reports per confirmed phone
    "track": "30/10m",
    "rate": "10/h",
    "vote": "30/h",
}


def _limited(request, group: str, value: str | None = None, *, count: bool = True) -> bool:
    return over_limit(request, group=f"cms:{group}", rate=RATES[group], value=value, count=count)


def _too_many(request):
    community = community_for_request(request)
    return render(request, "cms/rate_limited.html", _site_context(community) if community else {}, status=429)


def rate_limited(request, exception=None):
    return _too_many(request)


def _site_or_404(request) -> CommunitySite:
    community = community_for_request(request)
    if community is None:
        raise Http404
    return community


def _site_context(community: CommunitySite, **extra) -> dict:
    """What the site's frame (``cms/base.html``) shows: its name, sections and contact."""
    home = community.site.root_page.specific
    return {"community": community, "home": home, "sections": home.get_children().live(), "page": None, **extra}


def _page_context(request, page, **extra) -> dict:
    return {**page.get_context(request), **extra}


def qr_svg(url: str) -> str:
    return mark_safe(segno.make(url, error="m").svg_inline(scale=4, dark="#1f2937", omitsize=True))


# --- phone confirmation ----------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
def phone(request):
    community = _site_or_404(request)
    next_url = request.POST.get("next") or request.GET.get("next") or "/"
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = "/"
    phone_form, code_form, status = PhoneForm(), None, 200
    if request.method == "POST" and request.POST.get("step") == "send":
        phone_form = PhoneForm(request.POST)
        if _limited(request, "phone-send-ip"):
            return _too_many(request)
        if phone_form.is_valid():
            try:
                number = phones.phone_number(phone_form.cleaned_data["phone"])
                if _limited(request, "phone-send", protection.blind_index(number, "phone")):
                    return _too_many(request)
                phones.send_code(phone=number, site=community.site)
                code_form = CodeForm(initial={"phone": number})
            except ValidationError as exc:
                phone_form.add_error(None, exc)
        if code_form is None:
            status = 400
    elif request.method == "POST":
        code_form = CodeForm(request.POST)
        if _limited(request, "phone-confirm"):
            return _too_many(request)
        if code_form.is_valid():
            try:
                number = phones.phone_number(code_form.cleaned_data["phone"])
                phones.confirm(phone=number, code=code_form.cleaned_data["code"], site=community.site,
                               session=request.session)
                return redirect(next_url)
            except ValidationError as exc:
                code_form.add_error(None, exc)
        status = 400
    return render(request, "cms/phone.html", _site_context(community, phone_form=phone_form, code_form=code_form,
                                                           next=next_url), status=status)


def _confirm_first(request, page):
    return redirect(f"{reverse('cms-phone')}?{urlencode({'next': page.get_url(request)})}")


# --- reporting ------------------------------------------------------------------------------------


def report(request, page):
    community = _site_or_404(request)
    number = phones.confirmed_phone(request, community.site)
    if number is None:
        return _confirm_first(request, page)
    form, status = ReportForm(), 200
    if request.method == "POST":
        form = ReportForm(request.POST, request.FILES)
        phone_key = protection.blind_index(number, "phone")
        if _limited(request, "report") or _limited(request, "report-phone", phone_key, count=False):
            return _too_many(request)
        if form.is_valid():
            data = form.cleaned_data
            try:
                case = actions.report_from_site(
                    community=community, phone=number, category=data["category"], description=data["description"],
                    latitude=data["latitude"], longitude=data["longitude"], address=data["address"],
                    photos=data["photos"], name=data["name"], anonymous=data["anonymous"])
            except ValidationError as exc:
                for field, messages in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, messages)
            else:
                _limited(request, "report-phone", phone_key)  # counts the accepted report
                track_page = TrackPage.objects.child_of(page.home()).live().first()
                track_url = request.build_absolute_uri(
                    f"{track_page.get_url(request) if track_page else '/track/'}?"
                    f"{urlencode({'code': case.number, 'phone4': number[-4:]})}")
                return render(request, "cms/report_done.html", _page_context(
                    request, page, community=community, case=case, track_url=track_url, qr=qr_svg(track_url)))
        status = 400
    return render(request, "cms/report_page.html", _page_context(
        request, page, community=community, form=form, phone_masked=protection.mask_phone(number),
        grids=community_grids(community),
        photos_dropped=status == 400 and bool(request.FILES.getlist("photos"))), status=status)


# --- tracking and rating ----------------------------------------------------------------------------


def track(request, page):
    community = _site_or_404(request)
    source = request.POST if request.method == "POST" else request.GET
    form = TrackForm(source) if "code" in source else TrackForm()
    context = _page_context(request, page, community=community, form=form)
    status = 200
    if form.is_bound:
        if _limited(request, "track"):
            return _too_many(request)
        case = tracked_case(community, form.data.get("code", ""), form.data.get("phone4", "")) \
            if form.is_valid() else None
        if case is None:
            context["not_found"] = True
            return render(request, "cms/track_page.html", context, status=404 if form.is_valid() else 400)
        rating_form = RatingForm(request.POST if request.method == "POST" else None) if may_rate(case) else None
        if request.method == "POST":
            if rating_form is None or _limited(request, "rate"):
                return _too_many(request) if rating_form is not None else redirect(request.get_full_path())
            if rating_form.is_valid():
                try:
                    case_actions.rate_case(staff=None, case_id=case.pk, token=case.token,
                                           rating=rating_form.cleaned_data["rating"],
                                           comment=rating_form.cleaned_data["comment"])
                except case_actions.CaseConflict:
                    pass  # rated a moment ago: the page shows it as it is now
                query = urlencode({"code": case.number, "phone4": form.cleaned_data["phone4"]})
                return redirect(f"{page.get_url(request)}?{query}")
            status = 400
        track_url = request.build_absolute_uri(
            f"{page.get_url(request)}?{urlencode({'code': case.number, 'phone4': form.cleaned_data['phone4']})}")
        context.update(case=case, steps=public_timeline(case), description=masked_text(case.description),
                       rating_form=rating_form, qr=qr_svg(track_url), track_url=track_url)
    return render(request, "cms/track_page.html", context, status=status)


# --- consultations ------------------------------------------------------------------------------------


def consultation(request, page):
    community = _site_or_404(request)
    number = phones.confirmed_phone(request, community.site)
    options = list(page.options.all())
    form = VoteForm(options=options)
    status = 200
    if request.method == "POST":
        if number is None:
            return _confirm_first(request, page)
        if _limited(request, "vote"):
            return _too_many(request)
        form = VoteForm(request.POST, options=options)
        if form.is_valid():
            try:
                actions.vote(consultation=page, option_id=form.cleaned_data["option"], phone=number)
            except ValidationError as exc:
                form.add_error(None, exc.messages)
            else:
                return redirect(page.get_url(request))
        status = 400
    results, total = consultation_results(page, options)
    return render(request, "cms/consultation_page.html", _page_context(
        request, page, community=community, form=form, voted=has_voted(page, number), confirmed=number is not None,
        results=results, total=total, phone_url=f"{reverse('cms-phone')}?{urlencode({'next': page.get_url(request)})}"),
        status=status)


# --- images --------------------------------------------------------------------------------------------


def media(request, name: str):
    """An image of the current tenant's sites (an original or a rendition). On a
    community's host only its own collection's images are served."""
    rendition = SiteRendition.objects.filter(file=name).select_related("image").first()
    image = rendition.image if rendition else SiteImage.objects.filter(file=name).first()
    if image is None:
        raise Http404
    if on_community_host(request):
        community = community_for_request(request)
        if community is None or image.collection_id != community.collection_id:
            raise Http404
    elif cms_member(request.user) is None:
        raise Http404
    try:
        handle = default_storage.open(name)
    except FileNotFoundError as exc:
        raise Http404 from exc
    response = FileResponse(handle, content_type=mimetypes.guess_type(name)[0] or "application/octet-stream")
    patch_cache_control(response, public=True, max_age=86400)
    return response


def not_found(request, exception=None):
    """404 on a community's host, in the site's own frame when the host has a site."""
    community = community_for_request(request)
    return render(request, "cms/not_found.html", _site_context(community) if community else {}, status=404)
