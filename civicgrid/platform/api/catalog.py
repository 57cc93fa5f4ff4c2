"""Catalog API v1: the county's category tree with routing rules, and the working
calendar's local overrides. County admins and command operators read; county admins
write. Everyone else gets 404, and so does everything on another county's host.

Thin views: the action validates (its messages by field become a 400), writes and
audits; ``GET /api/v1/case-categories/`` (cases API) stays the reporters' short list.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import SAFE_METHODS
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import APIView

from civicgrid.platform.accounts.staff.models import StaffRole
from civicgrid.platform.cases import catalog_actions as catalog
from civicgrid.platform.cases import catalog_selectors as catalog_reads
from civicgrid.platform.cases.models import CalendarOverride, Category, Urgency

from .permissions import IsTenantStaff

TAGS = ["catalog"]


class ReadOrAdmin(IsTenantStaff):
    """Operators read; only county admins write (the actions check again)."""

    def allowed(self, request) -> bool:
        staff = getattr(request._request, "staff", None)
        if not staff:
            return False
        if request.method in SAFE_METHODS:
            return staff.role in catalog_reads.READERS
        return staff.role == StaffRole.COUNTY_ADMIN


class RoutingRuleOutput(serializers.Serializer):
    id = serializers.IntegerField()
    area = serializers.CharField(source="area.code", allow_null=True, default=None,
                                 help_text="org unit code; null: the whole county")
    area_name = serializers.CharField(source="area.name", allow_null=True, default=None)
    department = serializers.CharField(source="department.code")
    department_name = serializers.CharField(source="department.name")


class CategoryOutput(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    name_en = serializers.CharField()
    description = serializers.CharField()
    parent = serializers.CharField(source="parent.code", allow_null=True, default=None)
    is_group = serializers.BooleanField()
    accept_hours = serializers.DecimalField(max_digits=6, decimal_places=2)
    handle_hours = serializers.DecimalField(max_digits=6, decimal_places=2)
    urgency = serializers.ChoiceField(choices=Urgency.choices)
    department_code = serializers.CharField()
    is_active = serializers.BooleanField()
    sort_order = serializers.IntegerField()
    routing_rules = serializers.SerializerMethodField()

    def get_routing_rules(self, category) -> list[dict]:
        rules = getattr(category, "rules", None)
        if rules is None:
            rules = category.routing_rules.select_related("area", "department").order_by("area__path")
        return RoutingRuleOutput(rules, many=True).data


class GroupOutput(CategoryOutput):
    leaves = CategoryOutput(many=True)


class CategoryInput(serializers.Serializer):
    """Shapes only; the action holds the rules (and words them in the caller's language)."""

    code = serializers.CharField(required=False, allow_blank=True)
    name = serializers.CharField(required=False, allow_blank=True)
    name_en = serializers.CharField(required=False, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True)
    parent = serializers.CharField(required=False, allow_blank=True, allow_null=True, help_text="a group's code")
    accept_hours = serializers.CharField(required=False)
    handle_hours = serializers.CharField(required=False)
    urgency = serializers.CharField(required=False)
    department_code = serializers.CharField(required=False, allow_blank=True)
    is_active = serializers.BooleanField(required=False)
    sort_order = serializers.IntegerField(required=False)


class RoutingRuleInput(serializers.Serializer):
    area = serializers.CharField(required=False, allow_blank=True, allow_null=True,
                                 help_text="township, community or grid code; empty: the whole county")
    department = serializers.CharField(allow_blank=True)


class OverrideOutput(serializers.Serializer):
    day = serializers.DateField()
    is_working = serializers.BooleanField()
    note = serializers.CharField()


class OverrideInput(serializers.Serializer):
    day = serializers.CharField()
    is_working = serializers.BooleanField()
    note = serializers.CharField(required=False, allow_blank=True, default="")


class CatalogView(APIView):
    permission_classes = [ReadOrAdmin]
    token_scope = "catalog"
    renderer_classes = [JSONRenderer]

    def handle_exception(self, exc):
        if isinstance(exc, DjangoValidationError):
            exc = ValidationError(as_serializer_error(exc))
        return super().handle_exception(exc)

    def valid(self, serializer_class, *, partial=False) -> dict:
        serializer = serializer_class(data=self.request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)


def _category(code) -> Category:
    found = Category.objects.select_related("parent").filter(code=code).first()
    if found is None:
        raise Http404
    return found


def _render(category: Category) -> dict:
    return CategoryOutput(category).data


class CategoryListView(CatalogView):
    """The whole tree, inactive categories included: groups with their leaves and routing rules."""

    @extend_schema(tags=TAGS, operation_id="catalog_categories_list", responses=GroupOutput(many=True))
    def get(self, request):
        return Response(GroupOutput(catalog_reads.category_tree(), many=True).data)

    @extend_schema(tags=TAGS, operation_id="catalog_categories_create", request=CategoryInput,
                   responses={201: CategoryOutput})
    def post(self, request):
        values = self.valid(CategoryInput)
        category = catalog.create_category(staff=request.staff, code=values.pop("code", ""),
                                           name=values.pop("name", ""), **values)
        return Response(_render(category), status=status.HTTP_201_CREATED)


class CategoryDetailView(CatalogView):
    @extend_schema(tags=TAGS, operation_id="catalog_categories_retrieve", responses=CategoryOutput)
    def get(self, request, code):
        return Response(_render(_category(code)))

    @extend_schema(tags=TAGS, operation_id="catalog_categories_update", request=CategoryInput,
                   responses=CategoryOutput)
    def patch(self, request, code):
        values = self.valid(CategoryInput, partial=True)
        if "code" in values:
            raise ValidationError({"code": [_("A category's code cannot change: cases and clients refer to it.")]})
        catalog.update_category(staff=request.staff, category=_category(code), **values)
        return Response(_render(_category(code)))


class RoutingRuleCreateView(CatalogView):
    @extend_schema(tags=TAGS, operation_id="catalog_routing_rules_set", request=RoutingRuleInput,
                   responses={201: RoutingRuleOutput})
    def post(self, request, code):
        values = self.valid(RoutingRuleInput)
        rule = catalog.set_routing_rule(staff=request.staff, category=_category(code),
                                        area_code=values.get("area"), department_code=values["department"])
        return Response(RoutingRuleOutput(rule).data, status=status.HTTP_201_CREATED)


class RoutingRuleDetailView(CatalogView):
    @extend_schema(tags=TAGS, operation_id="catalog_routing_rules_delete", responses={204: None})
    def delete(self, request, pk):
        catalog.delete_routing_rule(staff=request.staff, rule_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CalendarOverrideListView(CatalogView):
    """The county's own working days and rest days on top of the national calendar.
    Deadlines set from now on use them; existing cases keep theirs."""

    @extend_schema(tags=TAGS, operation_id="catalog_calendar_overrides_list", responses=OverrideOutput(many=True))
    def get(self, request):
        return Response(OverrideOutput(CalendarOverride.objects.order_by("day"), many=True).data)

    @extend_schema(tags=TAGS, operation_id="catalog_calendar_overrides_set", request=OverrideInput,
                   responses={201: OverrideOutput})
    def post(self, request):
        values = self.valid(OverrideInput)
        override = catalog.set_calendar_override(staff=request.staff, day=values["day"],
                                                 is_working=values["is_working"], note=values["note"])
        return Response(OverrideOutput(override).data, status=status.HTTP_201_CREATED)


class CalendarOverrideDetailView(CatalogView):
    @extend_schema(tags=TAGS, operation_id="catalog_calendar_overrides_delete", responses={204: None})
    def delete(self, request, day):
        catalog.delete_calendar_override(staff=request.staff, day=day)
        return Response(status=status.HTTP_204_NO_CONTENT)
