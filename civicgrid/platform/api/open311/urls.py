"""GeoReport v2 resources, each in ``.json`` and ``.xml``; anything else under
``/open311/v2/`` gets the spec's 404 rather than an HTML page."""

from django.urls import re_path
from django.views.decorators.csrf import csrf_exempt

from . import openapi, views

FORMAT = r"\.(?P<format>json|xml)$"

urlpatterns = [
    re_path(r"^discovery" + FORMAT, views.discovery, name="open311-discovery"),
    re_path(r"^services" + FORMAT, views.services, name="open311-services"),
    re_path(r"^services/(?P<service_code>[^/]+?)" + FORMAT, views.service_definition, name="open311-service"),
    re_path(r"^requests" + FORMAT, views.service_requests, name="open311-requests"),
    re_path(r"^requests/(?P<service_request_id>[^/]+?)" + FORMAT, views.service_request, name="open311-request"),
    re_path(r"^tokens/(?P<token>[^/]+?)" + FORMAT, views.token, name="open311-token"),
    re_path(r"^openapi\.json$", csrf_exempt(openapi.served), name="open311-openapi"),
    re_path(r"^.*?(?:\.(?P<format>json|xml))?$", views.unknown, name="open311-unknown"),
]
