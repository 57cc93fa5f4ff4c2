from django.http import JsonResponse
from django.views.decorators.http import require_http_methods

from .models import HeardEvent


@require_http_methods(["GET", "POST"])
def heard(request):
    if request.method == "POST":
        HeardEvent.objects.create(action="page", case_number="", hook="console")
    return JsonResponse({"tenant": request.tenant.schema_name, "heard": HeardEvent.objects.count()})
