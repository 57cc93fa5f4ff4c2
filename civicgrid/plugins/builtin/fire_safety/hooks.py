"""The hooks CivicGrid calls, only in tenants that have fire safety switched on."""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from civicgrid.plugins import ImportField, ImportTarget, NavEntry, PeriodicJob, Widget, hookimpl

from . import defaults, selectors


@hookimpl
def civicgrid_case_categories():
    return list(defaults.CATEGORIES)


@hookimpl
def civicgrid_tenant_seed(tenant):
    from .actions import seed_checklists

    seed_checklists()


@hookimpl
def civicgrid_import_targets():
    from . import imports

    return [ImportTarget(
        code="fire_safety.units", label=_l("Fire-risk units"), key="code", clean=imports.clean,
        current=imports.current, apply=imports.apply,
        fields=(
            ImportField("code", _l("Unit code"), required=True, spellings=("编号", "单位编号", "编码", "code")),
            ImportField("name", _l("Name"), required=True, spellings=("名称", "单位名称", "name")),
            ImportField("kind", _l("Kind"), required=True, spellings=("类型", "类别", "kind")),
            ImportField("address", _l("Address"), required=True, spellings=("地址", "address")),
            ImportField("grid", _l("Grid code"), required=True, spellings=("网格", "网格编码", "grid")),
            ImportField("building", _l("Building code"), spellings=("楼栋", "楼栋编码", "building")),
            ImportField("latitude", _l("Latitude"), spellings=("纬度", "latitude", "lat")),
            ImportField("longitude", _l("Longitude"), spellings=("经度", "longitude", "lng")),
            ImportField("contact_name", _l("Contact"), spellings=("联系人", "contact")),
            ImportField("contact_phone", _l("Contact phone"), spellings=("联系电话", "电话", "phone")),
        ))]


@hookimpl
def civicgrid_console_nav(staff):
    if not selectors.may_read(staff):
        return []
    entries = [NavEntry(label=_("Fire-risk units"), url=reverse("fire_safety:unit-list")),
               NavEntry(label=_("Fire inspections"), url=reverse("fire_safety:inspection-list"))]
    if staff.role in selectors.EDITOR_ROLES:
        entries.append(NavEntry(label=_("Fire checklists"), url=reverse("fire_safety:checklists")))
    return entries


@hookimpl
def civicgrid_phone_entries(staff):
    if staff is None or staff.role not in selectors.INSPECTOR_ROLES:
        return []
    return [NavEntry(label=_("Fire inspection"), url=reverse("fire_safety:phone-units"))]


@hookimpl
def civicgrid_dashboard_widgets(staff):
    if not selectors.may_read(staff):
        return []
    figures = selectors.figures(staff)
    levels = figures["by_level"]
    url = reverse("fire_safety:overview")
    return [
        Widget(title=_("Fire-risk units"), value=str(figures["units"]), url=url,
               text=_("High %(high)d · medium %(medium)d · low %(low)d") % {
                   "high": levels.get("high", 0), "medium": levels.get("medium", 0), "low": levels.get("low", 0)}),
        Widget(title=_("Open fire hazards"), value=str(figures["open_hazards"]), url=url,
               text=_("Found by inspections, not yet verified as rectified")),
        Widget(title=_("Fire inspection coverage this month"), value=f"{figures['percent']}%", url=url,
               text=_("%(inspected)d of %(units)d units in %(grids)d grids") % {
                   "inspected": figures["inspected"], "units": figures["units"], "grids": len(figures["coverage"])}),
    ]


@hookimpl
def civicgrid_console_urls():
    from . import urls

    return urls.console_patterns()


@hookimpl
def civicgrid_api_urls():
    from . import api

    return api.urlpatterns


@hookimpl
def civicgrid_periodic_jobs():
    from .risk import recompute_risk_levels

    return [PeriodicJob(name="risk-levels", every=timedelta(hours=24), run=recompute_risk_levels)]


@hookimpl
def civicgrid_case_transitioned(event):
    """A case about a hazard handled after its re-inspection had already passed: closed."""
    from civicgrid.plugins.builtin.checklists.follow_up import close_when_handled

    from .actions import FOLLOW_UP

    close_when_handled(event, FOLLOW_UP)
