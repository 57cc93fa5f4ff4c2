"""Cases API v1: list and report, one case in full, one POST endpoint per workflow
operation, routing suggestions and the category tree.

Thin views: an input serializer checks shapes, a selector loads (already scoped to
the caller), one action writes, an output serializer renders. The actions speak
three errors and the API answers each the same way everywhere: ``Http404`` (not
visible, or the role may not) → 404, ``ValidationError`` → 400 with messages by
field, ``CaseConflict`` (stale version, wrong state) → 409 with the case's
status and version now, so a client can reload and decide again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.utils.urls import replace_query_param

from civicgrid.platform.cases import actions, lights, selectors
from civicgrid.platform.cases.models import OPEN_STATUSES, Case
from civicgrid.platform.org.models import Department
from civicgrid.search.query import SearchFilters, SearchUnavailable
from civicgrid.search.selectors import labelled_facets, search_cases
from civicgrid.tenants import replicas

from . import cases_serializers as s
from .permissions import IsTenantStaff

TAGS = ["cases"]


class CasesPagination(LimitOffsetPagination):
    default_limit = 50
    max_limit = 500


class CaseAPIView(GenericAPIView):
    """Base of every cases endpoint: tenant staff only; the selectors decide what they see."""

    permission_classes = [IsTenantStaff]
    token_scope = "cases"  # API tokens: cases:read for GET, cases:write otherwise
    pagination_class = CasesPagination
    renderer_classes = [JSONRenderer]

    @property
    def staff(self):
        return self.request.staff

    def handle_exception(self, exc):
        if isinstance(exc, DjangoValidationError):
            exc = ValidationError(as_serializer_error(exc))
        elif isinstance(exc, actions.CaseConflict):
            case = selectors.case_for(self.staff, self.kwargs["pk"])
            return Response(s.CaseConflictOutput({"detail": exc.message, "status": case.status,
                                                  "version": case.version}).data, status=status.HTTP_409_CONFLICT)
        return super().handle_exception(exc)

    def valid_input(self, serializer_class, data=None) -> dict:
        serializer = serializer_class(data=self.request.data if data is None else data,
                                      context={"staff": self.staff})
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)


# --- what the caller may do --------------------------------------------------


def allowed_actions(staff, case, *, extension_waiting: bool) -> list[str]:
    """The operations (URL names) ``staff`` may take on ``case`` now (``selectors.open_actions``)."""
    open_now = selectors.open_actions(staff, case, extension_waiting=extension_waiting)
    return [operation.slug for operation in OPERATIONS if operation.action in open_now]


def case_detail(staff, pk) -> dict:
    """One case as the caller sees it, with its timeline, files, orders and duplicates."""
    visible = selectors.cases_for(staff)
    try:
        case = lights.with_lights(visible, timezone.now()).get(pk=pk)
    except (Case.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
    case.timeline = list(case.events.all())
    case.attachment_rows = [_with_urls(row) for row in case.attachments.order_by("created_at", "id")]
    case.supervision_rows = list(case.supervisions.select_related("department", "issued_by").order_by("issued_at"))
    case.extension_rows = list(case.extensions.select_related("requested_by").order_by("created_at"))
    case.visible_duplicates = list(visible.filter(duplicate_of=case).order_by("reported_at"))
    case.visible_original = visible.filter(pk=case.duplicate_of_id).first() if case.duplicate_of_id else None
    case.allowed_actions = allowed_actions(staff, case, extension_waiting=any(
        row.granted is None for row in case.extension_rows))
    return s.CaseDetail(case, context={"staff": staff}).data


def _with_urls(attachment):
    """The console's file routes, which check the caller may see the case; a storage
    URL would hand the file to anyone holding the link."""
    keys = {"pk": attachment.case_id, "attachment": attachment.pk}
    attachment.url = reverse("case-file", kwargs=keys)
    # Every image has one: the photo itself is served there until the worker has made the thumbnail.
    attachment.thumbnail_url = reverse("case-thumbnail", kwargs=keys) if attachment.kind == "image" else None
    return attachment


def filtered(cases: QuerySet, filters: dict) -> QuerySet:
    """The list filters on an already scoped, light-annotated queryset."""
    if "status" in filters:
        cases = cases.filter(status__in=filters["status"])
    if "category" in filters:
        cases = cases.filter(Q(category__code=filters["category"]) | Q(category__parent__code=filters["category"]))
    if "department" in filters:
        cases = cases.filter(department__code=filters["department"])
    if "grid" in filters:
        cases = cases.filter(org_path__startswith=filters["grid"].path)
    for name in ("source", "urgency"):
        if name in filters:
            cases = cases.filter(**{name: filters[name]})
    if "light" in filters:  # a light is shown on open cases only
        cases = cases.filter(light=filters["light"], status__in=OPEN_STATUSES)
    if "reported_after" in filters:
        cases = cases.filter(reported_at__gte=filters["reported_after"])
    if "reported_before" in filters:
        cases = cases.filter(reported_at__lt=filters["reported_before"])
    if filters.get("q"):  # the database's own filter, for when the search engine cannot answer
        q = filters["q"]
        cases = cases.filter(Q(number__icontains=q) | Q(title__icontains=q) | Q(description__icontains=q))
    return cases


def search_filters(filters: dict) -> SearchFilters:
    """The list's filters as the search backends read them."""
    department_id = None
    if "department" in filters:  # an unknown code finds nothing, as the database filter does
        department_id = Department.objects.filter(code=filters["department"]).values_list("pk", flat=True).first() or 0
    return SearchFilters(
        statuses=tuple(filters.get("status", ())), category=filters.get("category", ""),
        source=filters.get("source", ""), urgency=filters.get("urgency", ""), department_id=department_id,
        org_path=filters["grid"].path if "grid" in filters else "", light=filters.get("light", ""),
        reported_after=filters.get("reported_after"), reported_before=filters.get("reported_before"))


# --- list, report, detail -----------------------------------------------------------

BAD_INPUT = OpenApiResponse(OpenApiTypes.OBJECT, description=_l('Messages by field: {"field": ["message"]}.'))
NOT_FOUND = OpenApiResponse(OpenApiTypes.OBJECT, description=_l("Not visible to the caller, or not theirs to do."))


class CaseListView(CaseAPIView):
    """The caller's cases, newest first; POST reports a new one (JSON, or multipart with photos)."""

    @extend_schema(tags=TAGS, operation_id="cases_list", parameters=[s.CaseFilters],
                   responses=s.CaseListItem(many=True),
                   description=_l("With q: full-text search, ranked, with highlights, facets and suggestions "
                                  "(see CaseSearchOutput); a tracking number in q finds its case exactly."))
    def get(self, request):
        filters = self.valid_input(s.CaseFilters, dict(request.query_params.items()))
        if filters.get("q", "").strip():  # a search only reads: from the replica where there is one
            return replicas.answer_from_replica(lambda: self.listed(dict(filters)), user=request.user)
        return self.listed(filters)

    def listed(self, filters: dict) -> Response:
        text = filters.get("q", "").strip()
        cases = lights.with_lights(selectors.cases_for(self.staff), timezone.now())
        if text and not cases.filter(number=text).exists():
            try:
                return self.search(text, filters)
            except SearchUnavailable:
                degraded = True
        else:
            degraded = False
            if text:
                filters["q"] = ""
                cases = cases.filter(number=text)
        page = self.paginate_queryset(filtered(cases, filters).order_by("-reported_at", "-id"))
        response = self.get_paginated_response(s.CaseListItem(page, many=True, context={"staff": self.staff}).data)
        if text:
            response.data.update(count_is_exact=True, facets={}, suggestions=[], degraded=degraded)
        return response

    def search(self, text: str, filters: dict) -> Response:
        paginator = self.paginator
        limit, offset = paginator.get_limit(self.request), paginator.get_offset(self.request)
        found = search_cases(self.staff, text, search_filters(filters), offset=offset, limit=limit)
        results = []
        for item in found.found:
            item.case.score, item.case.highlight = item.score, item.highlight
            results.append(item.case)
        url = self.request.build_absolute_uri()
        facets = {name: [vars(value) for value in values]
                  for name, values in labelled_facets(found.facets).items()}
        return Response(s.CaseSearchOutput({
            "count": found.total, "count_is_exact": found.total_is_exact,
            "next": replace_query_param(url, "offset", offset + limit) if offset + limit < found.total else None,
            "previous": (replace_query_param(url, "offset", max(0, offset - limit)) if offset > 0 else None),
            "results": results, "facets": facets, "suggestions": found.suggestions, "degraded": False,
        }, context={"staff": self.staff}).data)

    @extend_schema(tags=TAGS, operation_id="cases_report",
                   request={"application/json": s.CaseReportInput, "multipart/form-data": s.CaseReportUpload},
                   responses={201: s.CaseListItem, 400: BAD_INPUT, 404: NOT_FOUND})
    def post(self, request):
        """The new case's summary (what a list shows); its detail is at the Location header."""
        data = self.valid_input(s.CaseReportInput)
        case = actions.report_case(staff=self.staff, photos=request.FILES.getlist("photos"), **data)
        case.light = lights.light_of(case)  # the one case in hand: no query for it
        return Response(s.CaseListItem(case, context={"staff": self.staff}).data, status=status.HTTP_201_CREATED,
                        headers={"Location": reverse("api-cases-detail", kwargs={"pk": case.pk})})


class CaseDetailView(CaseAPIView):
    """One case: timeline, attachments, supervision orders, extension requests,
    duplicates and the operations the caller may take now."""

    @extend_schema(tags=TAGS, operation_id="cases_retrieve", responses={200: s.CaseDetail, 404: NOT_FOUND})
    def get(self, request, pk):
        return Response(case_detail(self.staff, pk))


class SuggestedDepartmentView(CaseAPIView):
    """The department the routing rules would dispatch this case to."""

    @extend_schema(tags=TAGS, operation_id="cases_suggested_department",
                   responses={200: s.CaseSuggestionOutput, 404: NOT_FOUND})
    def get(self, request, pk):
        case = selectors.case_for(self.staff, pk)
        department = selectors.suggested_department(case.category, case.grid)
        return Response(s.CaseSuggestionOutput({"department": department}).data)


# --- one endpoint per operation ------------------------------------------------------------


@dataclass(frozen=True)
class Operation:
    slug: str  # the URL segment, and the name in ``allowed_actions``
    action: str  # the name in ``rules.TRANSITIONS``
    input: type[serializers.Serializer]
    perform: Callable  # the action: (*, staff, case_id, version, **input) -> Case
    summary: str
    # Where an action names a field differently from the input.
    renamed: dict[str, str] = field(default_factory=dict)


OPERATIONS = [
    Operation("accept", "accept", s.CaseCommentInput, actions.accept_case, _l("Accept a reported case.")),
    Operation("reject", "reject", s.CaseReasonInput, actions.reject_case, _l("Refuse a report: not a case.")),
    Operation("dispatch", "dispatch", s.CaseDispatchInput, actions.dispatch_case,
              _l("Send the case to a department (by default the routing rules' choice).")),
    Operation("start", "start", s.CaseCommentInput, actions.start_case, _l("The department starts work.")),
    Operation("return", "return", s.CaseReasonInput, actions.return_case,
              _l("The department hands the case back to its dispatcher.")),
    Operation("request-extension", "request_extension", s.CaseExtensionRequestInput, actions.request_extension,
              _l("The department asks for more working hours.")),
    Operation("decide-extension", "decide_extension", s.CaseExtensionDecisionInput, actions.decide_extension,
              _l("Grant or refuse the waiting extension request.")),
    Operation("handle", "handle", s.CaseHandleInput, actions.handle_case, _l("The department reports the result.")),
    Operation("escalate", "escalate", s.CaseReasonInput, actions.escalate_case, _l("Move the case one level up.")),
    Operation("transfer", "transfer", s.CaseTransferInput, actions.transfer_case,
              _l("Move the case to another department.")),
    Operation("transfer-county", "transfer_tenant", s.CaseTransferCountyInput, actions.transfer_to_tenant,
              _l("Move the case to another county: a linked case is reported there.")),
    Operation("rate", "rate", s.CaseRateInput, actions.rate_case, _l("Record the rating from the revisit.")),
    Operation("close", "close", s.CaseCommentInput, actions.close_case, _l("Close a handled case.")),
    Operation("reopen", "reopen", s.CaseReasonInput, actions.reopen_case, _l("Reopen a closed case.")),
    Operation("supervise", "supervise", s.CaseSuperviseInput, actions.supervise_case,
              _l("Issue a supervision order with its own deadline.")),
    Operation("link-duplicate", "link_duplicate", s.CaseLinkDuplicateInput, actions.link_duplicate,
              _l("This report repeats an open case: it follows that one."), {"original": "original_id"}),
]

IF_MATCH = OpenApiParameter("If-Match", str, OpenApiParameter.HEADER, required=False,
                            description=_l("The version you acted on, instead of the body's version."))


class CaseOperationView(CaseAPIView):
    operation: Operation

    def post(self, request, pk):
        data = self.valid_input(self.operation.input)
        data["version"] = data.get("version") or self.if_match()
        try:
            self.operation.perform(staff=self.staff, case_id=pk, **data)
        except DjangoValidationError as exc:
            errors = as_serializer_error(exc)
            raise ValidationError({self.operation.renamed.get(key, key): value
                                   for key, value in errors.items()}) from exc
        return Response(case_detail(self.staff, pk))

    def if_match(self) -> int | None:
        header = self.request.headers.get("If-Match", "").strip()
        if not header:
            return None
        value = header.removeprefix("W/").strip('"')
        if not value.isdigit() or int(value) < 1:
            raise ValidationError({"version": [_("If-Match must carry the case's version, a whole number.")]})
        return int(value)


def operation_view(operation: Operation) -> type[CaseOperationView]:
    name = "".join(part.title() for part in operation.slug.split("-"))
    view = type(f"Case{name}View", (CaseOperationView,), {"operation": operation, "__doc__": operation.summary})
    return extend_schema_view(post=extend_schema(
        tags=TAGS, operation_id=f"cases_{operation.action}", summary=operation.summary, parameters=[IF_MATCH],
        request=operation.input,
        responses={200: s.CaseDetail, 400: BAD_INPUT, 404: NOT_FOUND,
                   409: OpenApiResponse(s.CaseConflictOutput,
                                        description=_l("Stale version, or the case is not in a state for this."))},
    ))(view)


# --- categories and notifications ------------------------------------------------------------


class CategoryTreeView(CaseAPIView):
    """The active categories, by group, with their deadlines in working hours."""

    pagination_class = None

    @extend_schema(tags=TAGS, operation_id="case_categories", responses=s.CaseCategoryGroupOutput(many=True))
    def get(self, request):
        groups: dict[int, object] = {}
        for leaf in selectors.leaf_categories().select_related("parent").order_by("parent__sort_order",
                                                                                  "parent__code", "sort_order",
                                                                                  "code"):
            group = groups.setdefault(leaf.parent_id, leaf.parent)
            group.__dict__.setdefault("active_children", []).append(leaf)
        return Response(s.CaseCategoryGroupOutput(list(groups.values()), many=True).data)
