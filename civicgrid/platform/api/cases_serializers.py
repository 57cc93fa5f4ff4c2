"""Cases API serializers: list filters, one input per operation, and the outputs.

Inputs only check shapes; the actions own every rule (a missing reason, a rating
out of range, a past deadline) and answer in their own words. Outputs never
carry the reporter's phone in clear, and show even the masked one only to the
people who coordinate the case.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from civicgrid.platform.cases import rules
from civicgrid.platform.cases.actions import action_label
from civicgrid.platform.cases.models import Source, Status, Urgency
from civicgrid.platform.org.models import OrgUnit
from civicgrid.platform.registry import protection
from civicgrid.platform.registry.models import Person, Place

from .registry_serializers import Scoped

LIGHTS = [("green", _l("Green")), ("yellow", _l("Yellow")), ("red", _l("Red"))]


# --- filters (query parameters) -------------------------------------------------


class CaseFilters(serializers.Serializer):
    status = serializers.CharField(required=False, help_text=_l("Statuses, comma separated (reported,accepted)."))
    category = serializers.CharField(required=False, help_text=_l("Category code; a group code takes its leaves."))
    department = serializers.CharField(required=False, help_text=_l("Code of the department holding the case."))
    grid = serializers.CharField(required=False, help_text=_l("Org unit code; its whole subtree is included."))
    source = serializers.ChoiceField(choices=Source.choices, required=False)
    urgency = serializers.ChoiceField(choices=Urgency.choices, required=False)
    light = serializers.ChoiceField(choices=LIGHTS, required=False,
                                    help_text=_l("Open cases whose running deadline shows this light."))
    reported_after = serializers.DateTimeField(required=False)
    reported_before = serializers.DateTimeField(required=False)
    q = serializers.CharField(required=False, max_length=200, help_text=_l(
        "Full-text search in Chinese over title, description, address, category, result and timeline "
        "comments; a tracking number finds its case exactly."))

    def validate_status(self, value):
        statuses = [part.strip() for part in value.split(",") if part.strip()]
        unknown = [part for part in statuses if part not in Status.values]
        if unknown:
            raise serializers.ValidationError(_("Unknown status %(status)s.") % {"status": ", ".join(unknown)})
        return statuses

    def validate_grid(self, value):
        unit = OrgUnit.objects.filter(code=value).first()
        if unit is None:
            raise serializers.ValidationError(_("No org unit has the code %(code)s.") % {"code": value})
        return unit


# --- inputs ------------------------------------------------------------------------


class CaseReportInput(serializers.Serializer):
    category = serializers.CharField(help_text=_l("Code of a leaf category."))
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    source = serializers.ChoiceField(choices=Source.choices, required=False,
                                     help_text=_l("Defaults to the reporter's own channel for grid workers and "
                                                  "departments."))
    latitude = serializers.FloatField(required=False, allow_null=True, default=None)
    longitude = serializers.FloatField(required=False, allow_null=True, default=None)
    address = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)
    urgency = serializers.ChoiceField(choices=Urgency.choices, required=False, allow_blank=True, default="")
    reporter_name = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)
    reporter_phone = serializers.CharField(required=False, allow_blank=True, default="", max_length=30)
    reporter_email = serializers.EmailField(required=False, allow_blank=True, default="")
    persons = Scoped(Person, many=True, required=False, help_text=_l("Ids of registry persons involved."))
    places = Scoped(Place, many=True, required=False, help_text=_l("Ids of registry places involved."))


class CaseReportUpload(CaseReportInput):
    """The same report as multipart form data, with its photos."""

    photos = serializers.ListField(child=serializers.FileField(), required=False,
                                   help_text=_l("Up to 9 photos or PDF documents."))


class CaseVersionInput(serializers.Serializer):
    version = serializers.IntegerField(required=False, min_value=1,
                                       help_text=_l("The version you acted on; a stale one is a conflict (409). "
                                                    "The If-Match header may carry it instead."))


class CaseCommentInput(CaseVersionInput):
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class CaseReasonInput(CaseVersionInput):
    reason = serializers.CharField(allow_blank=True)


class CaseDispatchInput(CaseCommentInput):
    department = serializers.CharField(required=False, allow_blank=True, default="",
                                       help_text=_l("Department code; empty follows the routing rules."))


class CaseExtensionRequestInput(CaseVersionInput):
    hours = serializers.DecimalField(max_digits=6, decimal_places=2, help_text=_l("Extra working hours."))
    reason = serializers.CharField(allow_blank=True)


class CaseExtensionDecisionInput(CaseCommentInput):
    grant = serializers.BooleanField()


class CaseHandleInput(CaseVersionInput):
    result = serializers.CharField(allow_blank=True, help_text=_l("What was done."))


class CaseTransferInput(CaseVersionInput):
    department = serializers.CharField(help_text=_l("Code of the department taking the case over."))
    reason = serializers.CharField(allow_blank=True)


class CaseTransferCountyInput(CaseVersionInput):
    division_code = serializers.CharField(help_text=_l("Division code of the county taking the case over."))
    reason = serializers.CharField(allow_blank=True)
    category_code = serializers.CharField(required=False, allow_blank=True, default="",
                                          help_text=_l("Its category there, if the code differs."))


class CaseRateInput(CaseCommentInput):
    rating = serializers.IntegerField(help_text=_l("1 to 5."))


class CaseSuperviseInput(CaseVersionInput):
    order = serializers.CharField(allow_blank=True)
    due_at = serializers.DateTimeField()
    card = serializers.ChoiceField(choices=[("", _l("No card")), ("yellow", _l("Yellow card")),
                                            ("red", _l("Red card"))], required=False, allow_blank=True, default="")


class CaseLinkDuplicateInput(CaseVersionInput):
    original_id = serializers.IntegerField(help_text=_l("Id of the open case this report repeats."))


# --- outputs ------------------------------------------------------------------------


class CaseCodeName(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class CaseListItem(serializers.Serializer):
    """A case in a list. (``light`` is annotated by ``cases.lights.with_lights``.)"""

    id = serializers.IntegerField()
    number = serializers.CharField()
    title = serializers.CharField()
    category = CaseCodeName()
    status = serializers.CharField()
    status_label = serializers.CharField(source="get_status_display")
    level = serializers.CharField()
    urgency = serializers.CharField()
    source = serializers.CharField()
    grid = serializers.CharField(source="grid.code", default=None, allow_null=True)
    department = serializers.CharField(source="department.code", default=None, allow_null=True)
    reported_at = serializers.DateTimeField()
    accept_due = serializers.DateTimeField()
    handle_due = serializers.DateTimeField(allow_null=True)
    light = serializers.SerializerMethodField(help_text=_l("Open cases only: how close the running deadline is."))
    version = serializers.IntegerField()
    reporter_phone = serializers.SerializerMethodField(help_text=_l("Masked; coordinators of the case only."))

    @extend_schema_field(serializers.ChoiceField(choices=LIGHTS, allow_null=True))
    def get_light(self, case):
        return case.light if case.is_open else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_reporter_phone(self, case):
        staff = self.context.get("staff")
        if staff is None or not case.reporter_phone_encrypted or staff.role not in rules.COORDINATORS[case.level]:
            return None
        return protection.mask_phone(protection.decrypt(case.reporter_phone_encrypted))


class CaseEventOutput(serializers.Serializer):
    id = serializers.IntegerField()
    action = serializers.CharField()
    action_label = serializers.SerializerMethodField()
    from_status = serializers.CharField()
    to_status = serializers.CharField()
    actor = serializers.CharField(source="actor_label")
    comment = serializers.CharField()
    created_at = serializers.DateTimeField()

    def get_action_label(self, event) -> str:
        return action_label(event.action)


class CaseAttachmentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    event = serializers.IntegerField(source="event_id", allow_null=True)
    kind = serializers.CharField()
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    original_name = serializers.CharField()
    url = serializers.CharField()
    thumbnail_url = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()


class CaseSupervisionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    order = serializers.CharField()
    card = serializers.CharField()
    due_at = serializers.DateTimeField()
    department = serializers.CharField(source="department.code", default=None, allow_null=True)
    issued_by = serializers.CharField(source="issued_by.username", default=None, allow_null=True)
    issued_at = serializers.DateTimeField()
    resolved_at = serializers.DateTimeField(allow_null=True)


class CaseExtensionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    hours = serializers.DecimalField(max_digits=6, decimal_places=2)
    reason = serializers.CharField()
    granted = serializers.BooleanField(allow_null=True, help_text=_l("Null while waiting for a decision."))
    requested_by = serializers.CharField(source="requested_by.username", default=None, allow_null=True)
    created_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)


class CaseReference(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    title = serializers.CharField()
    status = serializers.CharField()


class CaseDetail(CaseListItem):
    """One case in full. (``allowed_actions`` and the related rows are set on the case by the view.)"""

    description = serializers.CharField()
    address = serializers.CharField()
    latitude = serializers.FloatField(allow_null=True)
    longitude = serializers.FloatField(allow_null=True)
    reporter_name = serializers.SerializerMethodField(help_text=_l("Masked; coordinators of the case only."))
    accepted_at = serializers.DateTimeField(allow_null=True)
    dispatched_at = serializers.DateTimeField(allow_null=True)
    handled_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    result = serializers.CharField()
    rating = serializers.IntegerField(allow_null=True)
    rating_comment = serializers.CharField()
    duplicate_of = CaseReference(source="visible_original", allow_null=True)
    timeline = CaseEventOutput(many=True)
    attachments = CaseAttachmentOutput(many=True, source="attachment_rows")
    supervisions = CaseSupervisionOutput(many=True, source="supervision_rows")
    extension_requests = CaseExtensionOutput(many=True, source="extension_rows")
    duplicates = CaseReference(many=True, source="visible_duplicates")
    allowed_actions = serializers.ListField(child=serializers.CharField(),
                                            help_text=_l("The operations this caller may take now (URL names)."))

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_reporter_name(self, case):
        staff = self.context.get("staff")
        if staff is None or not case.reporter_name or staff.role not in rules.COORDINATORS[case.level]:
            return None
        return protection.mask_name(case.reporter_name)


class CaseConflictOutput(serializers.Serializer):
    detail = serializers.CharField()
    status = serializers.CharField(help_text=_l("The case's status now."))
    version = serializers.IntegerField(help_text=_l("The case's version now."))


class CaseSuggestionOutput(serializers.Serializer):
    department = CaseCodeName(allow_null=True, help_text=_l("Null when no routing rule covers the case."))


class CaseCategoryLeafOutput(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    name_en = serializers.CharField()
    description = serializers.CharField()
    accept_hours = serializers.DecimalField(max_digits=6, decimal_places=2,
                                            help_text=_l("Working hours to accept."))
    handle_hours = serializers.DecimalField(max_digits=6, decimal_places=2,
                                            help_text=_l("Working hours to handle."))
    urgency = serializers.CharField()
    department_code = serializers.CharField()


class CaseCategoryGroupOutput(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    name_en = serializers.CharField()
    description = serializers.CharField()
    children = CaseCategoryLeafOutput(many=True, source="active_children")


class CaseSearchHighlight(serializers.Serializer):
    title = serializers.CharField(help_text=_l("Escaped HTML; the query's words in <mark>."))
    text = serializers.CharField(required=False, help_text=_l("A snippet of the text that matched, escaped HTML."))


class CaseSearchItem(CaseListItem):
    """A case found by ``q``: what a list shows, with its relevance and highlighted snippets."""

    score = serializers.FloatField()
    highlight = CaseSearchHighlight()


class FacetCount(serializers.Serializer):
    value = serializers.CharField()
    label = serializers.CharField()
    count = serializers.IntegerField()


class CaseSearchOutput(serializers.Serializer):
    count = serializers.IntegerField()
    count_is_exact = serializers.BooleanField(help_text=_l(
        "False when the matches were too many to count: count is then a lower bound, and facets count the "
        "newest matches."))
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = CaseSearchItem(many=True)
    facets = serializers.DictField(child=FacetCount(many=True), help_text=_l(
        "Counts of the matches by status, category, source, department and light."))
    suggestions = serializers.ListField(child=serializers.CharField(), help_text=_l(
        "Category and place names close to the query, when it found little."))
    degraded = serializers.BooleanField(help_text=_l(
        "True when the search engine could not answer: the results come from a plain database filter."))
