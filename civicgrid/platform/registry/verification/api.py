"""POST /api/v1/registry/verifications/ — verify a JSON list of people against the registry.

Validation is by hand rather than a serializer: a call may carry 100,000 rows, and
field-by-field serializer validation would cost more than the verification itself.
"""

from __future__ import annotations

import json

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ParseError, Throttled
from rest_framework.parsers import BaseParser
from rest_framework.response import Response
from rest_framework.views import APIView

from civicgrid.platform.api.permissions import IsTenantStaff
from civicgrid.platform.security.ratelimits import first_over

from .actions import MAX_ROWS_PER_REQUEST, Result, Row, count_outcomes, verify_people
from .selectors import can_verify

ROW_KEYS = ("name", "id_number", "address")
MAX_REPORTED_PROBLEMS = 10
# 100,000 rows of long names and addresses. DATA_UPLOAD_MAX_MEMORY_SIZE (5 MB) is
# sized for forms; a full list is ~10 MB, so this endpoint sets its own ceiling.
MAX_BODY_BYTES = 64 * 1024 * 1024


class ListJSONParser(BaseParser):
    """JSON read straight from the request stream under this endpoint's own size limit.

    Not a JSONParser subclass on purpose: DRF reads ``request.body`` for those, which
    applies the 5 MB form limit and refuses a legitimate 100,000-row list."""

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        too_big = ParseError(_("The request body is larger than %(mb)d MB. Split the list.")
                             % {"mb": MAX_BODY_BYTES // (1024 * 1024)})
        request = (parser_context or {}).get("request")
        declared = int(request.META.get("CONTENT_LENGTH") or 0) if request is not None else 0
        if declared > MAX_BODY_BYTES:
            raise too_big
        raw = stream.read(MAX_BODY_BYTES + 1)
        if len(raw) > MAX_BODY_BYTES:
            raise too_big
        try:
            return json.loads(raw.decode((parser_context or {}).get("encoding") or "utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParseError(_("The request body is not valid JSON.")) from exc


class CanVerify(IsTenantStaff):
    """Staff of this tenant whose role may verify lists; anyone else signed in gets 404."""

    def allowed(self, request) -> bool:
        return super().allowed(request) and can_verify(request._request.staff)


def rows_from_json(data) -> list[Row]:
    """The rows of ``{"rows": [{"name": …, "id_number": …, "address": …}, …]}``, or a
    ValidationError naming every problem (up to ten) by row number."""
    if not isinstance(data, dict) or not isinstance(data.get("rows"), list):
        raise ValidationError(_('Send a JSON object with a "rows" list: '
                                '{"rows": [{"name": …, "id_number": …, "address": …}]}.'))
    items = data["rows"]
    if not items:
        raise ValidationError(_("The list has no rows."))
    if len(items) > MAX_ROWS_PER_REQUEST:
        raise ValidationError(_("At most %(max)s rows per call; this one has %(n)s. Split the list.")
                              % {"max": f"{MAX_ROWS_PER_REQUEST:,}", "n": f"{len(items):,}"})
    rows, problems = [], []
    for position, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            problems.append(_("Row %(n)d is not an object with name, id_number and address.") % {"n": position})
        else:
            missing = [key for key in ROW_KEYS if key not in item]
            # An ID number may come as a JSON number; names and addresses are text.
            wrong = [key for key in ROW_KEYS if key in item and not isinstance(item[key], str)
                     and not (key == "id_number" and isinstance(item[key], int) and not isinstance(item[key], bool))]
            if missing:
                problems.append(_("Row %(n)d has no %(keys)s.") % {"n": position, "keys": ", ".join(missing)})
            elif wrong:
                problems.append(_("Row %(n)d: %(keys)s must be text.") % {"n": position, "keys": ", ".join(wrong)})
            else:
                rows.append(Row(item["name"], str(item["id_number"]), item["address"], position))
        if len(problems) >= MAX_REPORTED_PROBLEMS:
            break
    if problems:
        raise ValidationError(problems)
    return rows


def result_json(result: Result) -> dict:
    return {"line": result.line, "name": result.name, "id_number": result.id_number, "address": result.address,
            "outcome": result.outcome, "differences": list(result.differences), "reason": result.reason}


class VerificationRowInput(serializers.Serializer):
    name = serializers.CharField()
    id_number = serializers.CharField()
    address = serializers.CharField(allow_blank=True)


class VerificationInput(serializers.Serializer):
    rows = VerificationRowInput(many=True, max_length=MAX_ROWS_PER_REQUEST)


class VerificationResultOutput(serializers.Serializer):
    line = serializers.IntegerField(help_text="the row's position in the list, from 1")
    name = serializers.CharField()
    id_number = serializers.CharField(help_text="masked")
    address = serializers.CharField()
    outcome = serializers.ChoiceField(choices=["consistent", "different", "not_found", "invalid_id"])
    differences = serializers.ListField(child=serializers.ChoiceField(choices=["name", "address"]))
    reason = serializers.CharField(help_text="why the ID number is invalid")


class VerificationOutput(serializers.Serializer):
    rows = serializers.IntegerField()
    outcomes = serializers.DictField(child=serializers.IntegerField())
    results = VerificationResultOutput(many=True)


class VerificationView(APIView):
    """Each row comes back, in order, as consistent, different (with the fields that
    differ), not_found or invalid_id (with the reason). ID numbers come back masked."""

    permission_classes = [CanVerify]
    token_scope = {"POST": "registry:verify"}
    parser_classes = [ListJSONParser]

    @extend_schema(request=VerificationInput, responses={200: VerificationOutput, 400: dict})
    def post(self, request):
        # Per client address and per caller (its token, or its account): a list of ID numbers
        # checked against the registry is a search, and must not become a way to enumerate it.
        token = request.auth if getattr(request.auth, "token_hash", None) else None  # an API token
        caller = f"token:{token.pk}" if token is not None else f"user:{request.user.pk}"
        wait = first_over(request, ("verification:ip", None), ("verification:caller", caller))
        if wait is not None:
            raise Throttled(wait=wait, detail=_("Too many verification requests."))
        try:
            data = request.data
        except ParseError as exc:
            return Response({"detail": str(exc.detail)}, status=status.HTTP_400_BAD_REQUEST)
        try:
            rows = rows_from_json(data)
        except ValidationError as exc:
            return Response({"detail": exc.messages[0], "errors": exc.messages}, status=status.HTTP_400_BAD_REQUEST)
        results = verify_people(staff=request._request.staff, rows=rows, channel="api")
        return Response({"rows": len(results), "outcomes": count_outcomes(results),
                         "results": [result_json(r) for r in results]})
