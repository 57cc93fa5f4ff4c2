from datetime import timedelta
from decimal import Decimal

from django.urls import path

from civicgrid.plugins import (
    CategorySpec,
    ImportField,
    ImportTarget,
    NavEntry,
    PeriodicJob,
    RegistryKindSpec,
    SearchDocument,
    Widget,
    hookimpl,
    meter,
)

from . import views
from .models import HeardEvent, Hydrant

DELIVERED: list[tuple[str, int]] = []  # (schema, notification id): what the channel was asked to send
CODES: list[tuple[str, str, str, str]] = []  # (schema, phone, text, reference): residents' one-time codes
JOBS_RUN: list[str] = []


@hookimpl
def civicgrid_case_categories():
    return [CategorySpec(code="SMP", name="示例隐患"),
            CategorySpec(code="SMP-LEAK", name="示例：燃气泄漏", parent="SMP", accept_hours=Decimal("0.5"),
                         handle_hours=Decimal("4"), urgency="urgent")]


@hookimpl
def civicgrid_registry_kinds():
    return [RegistryKindSpec(code="sample_watch", name="示例关注对象",
                             fields=({"name": "note", "label": "备注", "type": "text", "required": False},))]


@hookimpl
def civicgrid_tenant_seed(tenant):
    HeardEvent.objects.get_or_create(action="seed", case_number="", hook="seed")


@hookimpl
def civicgrid_case_reported(event):
    HeardEvent.objects.create(action=event.action, case_number=event.number, hook="reported")
    meter("check", idempotency_key=f"reported:{event.case_id}")


@hookimpl
def civicgrid_case_transitioned(event):
    HeardEvent.objects.create(action=event.action, case_number=event.number, hook="transitioned")


@hookimpl
def civicgrid_case_closed(event):
    HeardEvent.objects.create(action=event.action, case_number=event.number, hook="closed")


@hookimpl
def civicgrid_console_nav(staff):
    return [NavEntry(label="示例", url="/p/sample/heard/")]


@hookimpl
def civicgrid_dashboard_widgets(staff):
    return [Widget(title="示例插件", value=str(HeardEvent.objects.count()), text="heard", url="/p/sample/heard/")]


@hookimpl
def civicgrid_console_urls():
    # events/: a REST view among the pages, which a token must not reach with a core scope either
    return [path("heard/", views.heard, name="heard"), path("events/", views.HeardPageApi.as_view(), name="events")]


@hookimpl
def civicgrid_api_urls():
    return [path("heard/", views.heard, name="heard"), path("events/", views.HeardApi.as_view(), name="events")]


class RecordingChannel:
    code = "sample"
    name = "示例通道"

    def deliver(self, notification, recipient):
        import os

        from django.db import connection

        DELIVERED.append((connection.schema_name, notification.pk))
        if os.environ.get("SAMPLE_CHANNEL_LOG"):  # seen by a test from outside the worker's process
            with open(os.environ["SAMPLE_CHANNEL_LOG"], "a") as log:
                log.write(f"{connection.schema_name} {notification.pk}\n")

    def send_code(self, phone, text, reference):
        from django.db import connection

        CODES.append((connection.schema_name, phone, text, reference))
        return True


@hookimpl
def civicgrid_notification_channels():
    return [RecordingChannel()]


@hookimpl
def civicgrid_search_documents(since):
    return [SearchDocument(kind="heard", key=str(e.pk), title=e.action) for e in HeardEvent.objects.all()]


def _job():
    from django.db import connection

    JOBS_RUN.append(connection.schema_name)


@hookimpl
def civicgrid_periodic_jobs():
    return [PeriodicJob(name="tick", every=timedelta(minutes=5), run=_job)]


def _clean_hydrant(values, context):
    from datetime import date

    from django.core.exceptions import ValidationError

    errors, clean = {}, {"code": values["code"], "street": values.get("street", "")}
    if not clean["street"]:
        errors["street"] = "required"
    grid = context.grid_id(values.get("grid", ""))
    if grid is None:
        errors["grid"] = f"no grid {values.get('grid', '')!r}"
    clean["grid_id"] = grid
    try:
        clean["checked_on"] = date.fromisoformat(values["checked_on"]) if values.get("checked_on") else None
    except ValueError:
        errors["checked_on"] = "not a date (YYYY-MM-DD)"
    if errors:
        raise ValidationError(errors)
    return clean


def _current_hydrants(keys):
    return {h["code"]: h for h in Hydrant.objects.filter(code__in=keys).values("code", "street", "grid_id",
                                                                                 "checked_on")}


def _apply_hydrants(new, changed, *, actor):
    Hydrant.objects.bulk_create([Hydrant(**values) for values in new])
    for values in changed:
        Hydrant.objects.filter(code=values["code"]).update(**values)


@hookimpl
def civicgrid_import_targets():
    return [ImportTarget(
        code="sample.hydrants", label="消火栓", key="code",
        fields=(ImportField("code", "编号", required=True, spellings=("hydrant no",)),
                ImportField("street", "所在道路", required=True), ImportField("grid", "网格编码", required=True),
                ImportField("checked_on", "检查日期")),
        clean=_clean_hydrant, current=_current_hydrants, apply=_apply_hydrants)]
