"""The caller's notifications: the inbox, what arrived since a cursor (a page or an
app catching up after a gap), and marking read. Every read is announced to the
caller's other open tabs through the outbox (``notifications.actions``)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _l
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from civicgrid.platform.notifications import actions, selectors

from .cases import NOT_FOUND, CaseAPIView, CasesPagination

TAGS = ["notifications"]


class NotificationOutput(serializers.Serializer):
    id = serializers.IntegerField()
    topic = serializers.CharField()
    title = serializers.CharField()
    body = serializers.CharField()
    url = serializers.CharField()
    case = serializers.IntegerField(source="case_id", allow_null=True)
    created_at = serializers.DateTimeField()
    read_at = serializers.DateTimeField(allow_null=True)


class NotificationFilters(serializers.Serializer):
    since = serializers.IntegerField(required=False, min_value=0, help_text=_l(
        "Only notifications newer than this id, oldest first: what a page missed since the newest it saw."))
    unread = serializers.BooleanField(required=False, default=False, help_text=_l("Only unread notifications."))


class InboxPagination(CasesPagination):
    """The usual page, plus the caller's unread count (for the counter on every page)."""

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        response.data["unread"] = self.unread
        return response

    def get_paginated_response_schema(self, schema):
        schema = super().get_paginated_response_schema(schema)
        schema["properties"]["unread"] = {"type": "integer", "description": "The caller's unread notifications."}
        return schema


class NotificationListView(CaseAPIView):
    """The caller's notifications: unread first, newest first; or, with ``since``, the ones
    newer than that id, oldest first."""
    token_scope = "notifications"

    pagination_class = InboxPagination

    @extend_schema(tags=TAGS, operation_id="notifications_list", parameters=[NotificationFilters],
                   responses=NotificationOutput(many=True))
    def get(self, request):
        filters = NotificationFilters(data=request.query_params)
        filters.is_valid(raise_exception=True)
        rows = selectors.notifications_for(request.user, since=filters.validated_data.get("since"),
                                           unread=filters.validated_data["unread"])
        self.paginator.unread = selectors.unread_count(request.user)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(NotificationOutput(page, many=True).data)


class NotificationReadView(CaseAPIView):
    """Mark one of the caller's notifications read (again is harmless)."""
    token_scope = "notifications"

    @extend_schema(tags=TAGS, operation_id="notifications_read", request=None,
                   responses={200: NotificationOutput, 404: NOT_FOUND})
    def post(self, request, pk):
        notification = actions.mark_read(user=request.user, notification_id=pk)
        return Response(NotificationOutput(notification).data)


class ReadAllOutput(serializers.Serializer):
    marked = serializers.IntegerField(help_text=_l("How many were unread and are now read."))


class NotificationReadAllView(CaseAPIView):
    """Mark every unread notification of the caller read."""
    token_scope = "notifications"

    @extend_schema(tags=TAGS, operation_id="notifications_read_all", request=None, responses=ReadAllOutput)
    def post(self, request):
        return Response(ReadAllOutput({"marked": actions.mark_all_read(user=request.user)}).data)



