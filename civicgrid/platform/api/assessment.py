"""Assessment API v1: scores per department, township and grid worker for a period,
each measure with the cases behind it, and the county's weights.

Thin views: the period is parsed, ``cases.assessment`` computes (scoped to the
caller: a kind of unit that is not theirs is 404), the weights change through
``assessment_actions.set_weights``. How a score is made is told in
``civicgrid.platform.cases.assessment``.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import APIView

from civicgrid.platform.cases import assessment
from civicgrid.platform.cases.assessment_actions import set_weights

from .permissions import IsTenantStaff

TAGS = ["assessment"]


class CaseRefOutput(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    ok = serializers.BooleanField(allow_null=True, help_text="counted in favour (on time, accepted, stayed closed)")
    rating = serializers.IntegerField(allow_null=True, help_text="satisfaction only")


class MeasureOutput(serializers.Serializer):
    metric = serializers.CharField()
    label = serializers.CharField()
    value = serializers.FloatField(allow_null=True, help_text="per cent for rates, mean rating, or a count")
    numerator = serializers.IntegerField()
    denominator = serializers.IntegerField()
    figure = serializers.FloatField(allow_null=True, help_text="0-100, what the weight multiplies")
    weight = serializers.FloatField()
    points = serializers.FloatField(allow_null=True, help_text="penalty points taken off the score")
    cases = CaseRefOutput(many=True)


class RowOutput(serializers.Serializer):
    key = serializers.CharField(help_text="department or township code, or the grid worker's username")
    name = serializers.CharField()
    grid = serializers.CharField(required=False, allow_null=True, help_text="grid workers only")
    score = serializers.FloatField(allow_null=True)
    base = serializers.FloatField(allow_null=True)
    penalty = serializers.FloatField()
    measures = serializers.DictField(child=MeasureOutput())


class PeriodOutput(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField(help_text="exclusive")


class ScoresOutput(serializers.Serializer):
    kind = serializers.CharField()
    period = PeriodOutput()
    weights = serializers.DictField(child=serializers.FloatField())
    results = RowOutput(many=True)


class WeightsOutput(serializers.Serializer):
    weights = serializers.DictField(child=serializers.FloatField())
    defaults = serializers.DictField(child=serializers.FloatField())


class WeightsInput(serializers.Serializer):
    weights = serializers.DictField(child=serializers.CharField(allow_null=True, allow_blank=True),
                                    help_text="metric → number; null puts the default back")


PERIOD_PARAMETERS = [
    OpenApiParameter("start", str, description="first day, YYYY-MM-DD (default: the first of this month)"),
    OpenApiParameter("end", str, description="the day after the last, YYYY-MM-DD (default: a month on)"),
    OpenApiParameter("cases", bool, description="include the cases behind each measure (default true)"),
]


class _AssessmentView(APIView):
    permission_classes = [IsTenantStaff]
    token_scope = "assessment"
    renderer_classes = [JSONRenderer]

    def handle_exception(self, exc):
        if isinstance(exc, DjangoValidationError):
            exc = ValidationError(as_serializer_error(exc))
        return super().handle_exception(exc)


def _weights_dict(weights) -> dict[str, float]:
    return {metric: float(value) for metric, value in weights.items()}


class _ScoresView(_AssessmentView):
    kind: str

    def get(self, request):
        params = request.query_params
        period = assessment.Period.parse(params.get("start"), params.get("end"))
        with_cases = params.get("cases", "true").lower() not in ("0", "false", "no")
        weights = assessment.current_weights()
        rows = assessment.assess(request.staff, self.kind, period, weights=weights, with_cases=with_cases)
        return Response({
            "kind": self.kind, "period": {"start": period.start, "end": period.end},
            "weights": _weights_dict(weights), "results": [row.as_dict() for row in rows],
        })


def _documented(summary: str, kind: str):
    return extend_schema(tags=TAGS, summary=summary, parameters=PERIOD_PARAMETERS, responses=ScoresOutput,
                         operation_id=f"assessment_{kind}")


class DepartmentScoresView(_ScoresView):
    kind = assessment.DEPARTMENTS

    @_documented("Scores per department", kind)
    def get(self, request):
        return super().get(request)


class TownshipScoresView(_ScoresView):
    kind = assessment.TOWNSHIPS

    @_documented("Scores per township", kind)
    def get(self, request):
        return super().get(request)


class GridWorkerScoresView(_ScoresView):
    kind = assessment.GRID_WORKERS

    @_documented("Scores per grid worker", kind)
    def get(self, request):
        return super().get(request)


class WeightsView(_AssessmentView):
    """Everyone who sees scores may read how they are weighted; county admins change it."""

    @extend_schema(tags=TAGS, responses=WeightsOutput)
    def get(self, request):
        if not assessment.visible_units(request.staff):
            raise Http404
        return Response(self._render(assessment.current_weights()))

    @extend_schema(tags=TAGS, request=WeightsInput, responses=WeightsOutput)
    def put(self, request):
        # The action checks the role before it looks at the input: a caller who may not change weights
        # learns nothing from a 400.
        weights = request.data.get("weights") if hasattr(request.data, "get") else None
        return Response(self._render(set_weights(staff=request.staff, weights=weights)))

    @staticmethod
    def _render(weights) -> dict:
        return {"weights": _weights_dict(weights), "defaults": _weights_dict(assessment.DEFAULT_WEIGHTS)}
