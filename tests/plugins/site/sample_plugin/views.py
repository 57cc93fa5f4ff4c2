from django.http import JsonResponse
from django.views.decorators.http import require_http_methods
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from civicgrid.platform.api.permissions import IsTenantStaff

from .models import HeardEvent


@require_http_methods(["GET", "POST"])
def heard(request):
    if request.method == "POST":
        HeardEvent.objects.create(action="page", case_number="", hook="console")
    return JsonResponse({"tenant": request.tenant.schema_name, "heard": HeardEvent.objects.count()})


class HeardApi(APIView):
    """A vendor's REST endpoint. Its ``token_scope`` claims the core's cases scope; the
    framework's own, ``module:sample``, is what a token needs all the same."""

    permission_classes = [IsTenantStaff]
    token_scope = "cases"

    @extend_schema(operation_id="sample_events_count", responses=OpenApiTypes.OBJECT)
    def get(self, request):
        return Response({"heard": HeardEvent.objects.count()})

    @extend_schema(operation_id="sample_events_create", request=None, responses={201: OpenApiTypes.OBJECT})
    def post(self, request):
        HeardEvent.objects.create(action="api", case_number="", hook="api")
        return Response({"heard": HeardEvent.objects.count()}, status=201)


@extend_schema(exclude=True)
class HeardPageApi(HeardApi):
    """The same among the console's pages, which the API's schema does not describe."""
