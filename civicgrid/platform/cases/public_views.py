"""The reporter's page for one case, reached by the link they were given (the case's
token): no sign-in, nothing personal on it, and a rating once the case is handled."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _l

from civicgrid.platform.security.ratelimits import first_over

from . import actions
from .models import Case, Status

RATINGS = [(5, _l("5 · very satisfied")), (4, _l("4 · satisfied")), (3, _l("3 · acceptable")),
           (2, _l("2 · dissatisfied")), (1, _l("1 · very dissatisfied"))]


class RatingForm(forms.Form):
    rating = forms.TypedChoiceField(label=_l("Rating"), choices=RATINGS, coerce=int, widget=forms.RadioSelect)
    comment = forms.CharField(label=_l("What the reporter said"), required=False, max_length=500,
                              widget=forms.Textarea(attrs={"rows": 3}))


def _case(token) -> Case:
    try:
        return Case.objects.select_related("category", "department").get(token=token)
    except (Case.DoesNotExist, ValueError, TypeError, ValidationError) as exc:
        raise Http404 from exc


def _too_many(request, wait: int):
    response = render(request, "cases/public/rate_limited.html", {"retry_minutes": max(1, -(-wait // 60))},
                      status=429)
    response["Retry-After"] = str(wait)
    return response


def follow_case(request, token):
    # Per client address, before the case is looked up: a wrong token costs the same as a
    # right one, and a rating (a write) has a tighter limit of its own.
    limits = [("follow:ip", None)] + ([("follow:rate-ip", None)] if request.method == "POST" else [])
    wait = first_over(request, *limits)
    if wait is not None:
        return _too_many(request, wait)
    case = _case(token)
    may_rate = case.status == Status.HANDLED and case.rating is None
    form = RatingForm(request.POST or None) if may_rate else None
    if request.method == "POST":
        if form is None:
            raise Http404
        if form.is_valid():
            try:
                actions.rate_case(staff=None, case_id=case.pk, token=case.token, rating=form.cleaned_data["rating"],
                                  comment=form.cleaned_data["comment"])
            except actions.CaseConflict:
                pass  # rated or moved on a moment ago: the page shows it as it is now
            return redirect("case-follow", token=case.token)
    return render(request, "cases/public/follow.html", {"case": case, "form": form})
