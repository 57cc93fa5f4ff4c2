"""API under /api/v1/p/food_safety/: businesses (list, detail), complaints (create) and
inspections (create, list). The same errors as the cases API: 404 for what the caller may
not see or do, 400 with messages by field, 201 with the new record."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _l
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error

from civicgrid.platform.api.permissions import IsTenantStaff
from civicgrid.platform.org.models import OrgUnit
from civicgrid.plugins.builtin.checklists import services
from civicgrid.plugins.builtin.checklists.models import Outcome

from . import actions, categories, selectors
from .checklist import items_for
from .models import BusinessKind, LicenceStatus

TAGS = ["food_safety"]
BAD_INPUT = OpenApiResponse(OpenApiTypes.OBJECT, description=_l('Messages by field: {"field": ["message"]}.'))
NOT_FOUND = OpenApiResponse(OpenApiTypes.OBJECT, description=_l("Not visible to the caller, or not theirs to do."))


class MayView(IsTenantStaff):
    roles = tuple(selectors.VIEW_ROLES)

    def allowed(self, request) -> bool:
        return super().allowed(request) and selectors.may_view(request._request.staff)


class MayComplain(IsTenantStaff):
    roles = tuple(selectors.COMPLAINT_ROLES)

    def allowed(self, request) -> bool:
        return super().allowed(request) and selectors.may_complain(request._request.staff)


class Pagination(LimitOffsetPagination):
    default_limit = 50
    max_limit = 500


class FoodAPIView(GenericAPIView):
    permission_classes = [MayView]
    pagination_class = Pagination
    renderer_classes = [JSONRenderer]

    @property
    def staff(self):
        return self.request.staff

    def handle_exception(self, exc):
        if isinstance(exc, DjangoValidationError):
            exc = ValidationError(as_serializer_error(exc))
        return super().handle_exception(exc)

    def valid_input(self, serializer_class, data=None) -> dict:
        serializer = serializer_class(data=self.request.data if data is None else data)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)


# --- serializers ---------------------------------------------------------------------------


class FoodLicenceOutput(serializers.Serializer):
    number = serializers.CharField()
    issued_on = serializers.DateField()
    expires_on = serializers.DateField()


class FoodBusinessOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=BusinessKind.choices)
    address = serializers.CharField()
    grid = serializers.CharField(source="grid.code")
    latitude = serializers.DecimalField(max_digits=9, decimal_places=6, allow_null=True)
    longitude = serializers.DecimalField(max_digits=9, decimal_places=6, allow_null=True)
    credit_code = serializers.CharField()
    licence = serializers.SerializerMethodField()
    licence_status = serializers.CharField(help_text=_l('"valid", "expiring" (within 30 days), "expired" or "" (none)'))

    @extend_schema_field(FoodLicenceOutput(allow_null=True))
    def get_licence(self, business) -> dict | None:
        licence = getattr(business, "licence", None)
        return FoodLicenceOutput(licence).data if licence is not None else None


class FoodBusinessDetailOutput(FoodBusinessOutput):
    operator_name = serializers.CharField()
    operator_phone = serializers.CharField()
    cases = serializers.SerializerMethodField()

    def get_cases(self, business) -> list[dict]:
        return [{"id": case.pk, "number": case.number, "status": case.status, "category": case.category.code}
                for case in self.context["cases"]]


class FoodBusinessFilters(serializers.Serializer):
    kind = serializers.ChoiceField(choices=BusinessKind.choices, required=False)
    grid = serializers.CharField(required=False, max_length=40, help_text=_l("A grid's or an area's code."))
    status = serializers.ChoiceField(choices=LicenceStatus.choices, required=False)
    q = serializers.CharField(required=False, max_length=100)


class FoodComplaintInput(serializers.Serializer):
    business = serializers.IntegerField()
    description = serializers.CharField(max_length=4000)
    source = serializers.ChoiceField(choices=[(s.value, s.label) for s in actions.COMPLAINT_SOURCES])
    category = serializers.ChoiceField(choices=categories.LEAVES, default=categories.COMPLAINT)
    reporter_name = serializers.CharField(max_length=100, required=False, default="")
    reporter_phone = serializers.CharField(max_length=20, required=False, default="")


class FoodCaseCreated(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    status = serializers.CharField()
    category = serializers.CharField(source="category.code")
    department = serializers.CharField(source="category.department_code")


# --- views ------------------------------------------------------------------------------


class BusinessListView(FoodAPIView):
    """Food businesses the caller may see, by name; filter by kind, grid (or area) and licence status."""

    @extend_schema(tags=TAGS, operation_id="food_businesses_list", parameters=[FoodBusinessFilters],
                   responses={200: FoodBusinessOutput(many=True), 400: BAD_INPUT})
    def get(self, request):
        filters = self.valid_input(FoodBusinessFilters, dict(request.query_params.items()))
        grid = None
        if filters.get("grid"):
            grid = OrgUnit.objects.filter(code=filters["grid"]).first()
            if grid is None:
                raise ValidationError({"grid": [_l("Unknown grid.")]})
        today = timezone.localdate()
        businesses = selectors.filtered(selectors.businesses_for(self.staff), kind=filters.get("kind", ""),
                                        grid=grid, status=filters.get("status", ""), q=filters.get("q", ""),
                                        today=today)
        page = self.paginate_queryset(selectors.with_licence_status(businesses, today).order_by("name", "pk"))
        return self.get_paginated_response(FoodBusinessOutput(page, many=True).data)


class BusinessDetailView(FoodAPIView):
    """One business with its licence and the cases about it the caller may see."""

    @extend_schema(tags=TAGS, operation_id="food_businesses_retrieve",
                   responses={200: FoodBusinessDetailOutput, 404: NOT_FOUND})
    def get(self, request, pk):
        business = selectors.business_for(self.staff, pk)
        cases = selectors.visible_cases(self.staff, business)
        return Response(FoodBusinessDetailOutput(business, context={"cases": cases}).data)


class ComplaintCreateView(FoodAPIView):
    """A complaint about a business becomes a case for market supervision. An
    ``Idempotency-Key`` header makes a resent complaint answer with the first case (200)."""

    permission_classes = [MayComplain]

    @extend_schema(tags=TAGS, operation_id="food_complaints_create", request=FoodComplaintInput,
                   responses={201: FoodCaseCreated, 200: FoodCaseCreated, 400: BAD_INPUT, 404: NOT_FOUND})
    def post(self, request):
        data = self.valid_input(FoodComplaintInput)
        key = (request.headers.get("Idempotency-Key") or "").strip()
        if len(key) > 64:
            raise ValidationError({"client_key": [_l("The key is longer than 64 characters.")]})
        case = actions.file_complaint(staff=self.staff, business_id=data.pop("business"), client_key=key, **data)
        replayed = bool(getattr(case, "replayed", False))
        return Response(FoodCaseCreated(case).data, status=status.HTTP_200_OK if replayed else status.HTTP_201_CREATED)


# --- checklists and inspections ------------------------------------------------------------------


class MayInspect(IsTenantStaff):
    roles = tuple(selectors.INSPECT_ROLES)

    def allowed(self, request) -> bool:
        return super().allowed(request) and selectors.may_inspect(request._request.staff)


class FoodCheckItemOutput(serializers.Serializer):
    id = serializers.IntegerField()
    field = serializers.SerializerMethodField(help_text=_l("The answer's field name: pass, fail or na."))
    text = serializers.CharField()
    category = serializers.CharField(source="category_code")

    def get_field(self, item) -> str:
        return services.field_name(item)


class FoodResultOutput(serializers.Serializer):
    item = serializers.IntegerField(source="item_id")
    text = serializers.CharField(source="item_text")
    result = serializers.CharField()
    note = serializers.CharField()
    category = serializers.CharField(source="category_code")
    has_photo = serializers.SerializerMethodField()
    case = serializers.SerializerMethodField()
    finding = serializers.SerializerMethodField()

    def get_has_photo(self, row) -> bool:
        return bool(row.photo)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_case(self, row):
        finding = getattr(row, "found_finding", None)
        return finding.case.number if finding is not None and finding.case is not None else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_finding(self, row):
        finding = getattr(row, "found_finding", None)
        return finding.status if finding is not None else None


class FoodInspectionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    business = serializers.IntegerField(source="business_id")
    grid = serializers.CharField(source="grid.code")
    inspected_at = serializers.DateTimeField()
    inspected_by = serializers.CharField(source="inspected_by.username")
    latitude = serializers.DecimalField(max_digits=9, decimal_places=6, allow_null=True)
    longitude = serializers.DecimalField(max_digits=9, decimal_places=6, allow_null=True)
    outcome = serializers.CharField()
    note = serializers.CharField()


class FoodInspectionDetailOutput(FoodInspectionOutput):
    results = serializers.SerializerMethodField()

    @extend_schema_field(FoodResultOutput(many=True))
    def get_results(self, inspection):
        return FoodResultOutput(selectors.results_of(inspection), many=True).data


class FoodInspectionFilters(serializers.Serializer):
    business = serializers.IntegerField(required=False)
    outcome = serializers.ChoiceField(choices=Outcome.choices, required=False)


class FoodInspectionUpload(serializers.Serializer):
    """Multipart. Besides these, every checklist item (``GET businesses/{id}/checklist/``) is
    answered as ``item-<id>`` = pass | fail | na, with an optional ``item-<id>-note`` and, for
    each failed item, a photo in ``item-<id>-photo``. Send the device's key in the
    ``Idempotency-Key`` header: the same key again answers 200 with the first inspection."""

    business = serializers.IntegerField()
    latitude = serializers.DecimalField(max_digits=9, decimal_places=6)
    longitude = serializers.DecimalField(max_digits=10, decimal_places=6)
    note = serializers.CharField(required=False, max_length=2000)


class ChecklistView(FoodAPIView):
    """The checklist asked of this business (its items depend on its kind)."""

    @extend_schema(tags=TAGS, operation_id="food_businesses_checklist",
                   responses={200: FoodCheckItemOutput(many=True), 404: NOT_FOUND})
    def get(self, request, pk):
        business = selectors.business_for(self.staff, pk)
        return Response(FoodCheckItemOutput(items_for(business), many=True).data)


class InspectionListView(FoodAPIView):
    """Inspections of the businesses the caller may see, newest first; a grid worker POSTs one."""

    def get_permissions(self):
        return [MayInspect()] if self.request.method == "POST" else [MayView()]

    @extend_schema(tags=TAGS, operation_id="food_inspections_list", parameters=[FoodInspectionFilters],
                   responses={200: FoodInspectionOutput(many=True), 400: BAD_INPUT})
    def get(self, request):
        filters = self.valid_input(FoodInspectionFilters, dict(request.query_params.items()))
        inspections = selectors.inspections_for(self.staff).select_related("grid", "inspected_by")
        if "business" in filters:
            inspections = inspections.filter(business_id=filters["business"])
        if "outcome" in filters:
            inspections = inspections.filter(outcome=filters["outcome"])
        page = self.paginate_queryset(inspections.order_by("-inspected_at", "-pk"))
        return self.get_paginated_response(FoodInspectionOutput(page, many=True).data)

    @extend_schema(tags=TAGS, operation_id="food_inspections_create",
                   request={"multipart/form-data": FoodInspectionUpload},
                   parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=True,
                                                description=_l("The device's key for this inspection (8 to 64 "
                                                               "letters, digits, - or _)."))],
                   responses={201: FoodInspectionDetailOutput, 200: FoodInspectionDetailOutput, 400: BAD_INPUT,
                              404: NOT_FOUND})
    def post(self, request):
        key = services.check_key(services.client_key(request, request.data))
        try:
            business_id = int(request.data.get("business"))
        except (TypeError, ValueError) as exc:
            raise ValidationError({"business": [_l("Name the business inspected.")]}) from exc
        inspection, created = actions.inspect_business(staff=self.staff, business_id=business_id, data=request.data,
                                                       files=request.FILES, client_key=key)
        inspection = selectors.inspection_for(self.staff, inspection.pk)
        return Response(FoodInspectionDetailOutput(inspection).data,
                        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class InspectionDetailView(FoodAPIView):
    """One inspection with its answers, and for each failed item its finding and case."""

    @extend_schema(tags=TAGS, operation_id="food_inspections_retrieve",
                   responses={200: FoodInspectionDetailOutput, 404: NOT_FOUND})
    def get(self, request, pk):
        return Response(FoodInspectionDetailOutput(selectors.inspection_for(self.staff, pk)).data)
