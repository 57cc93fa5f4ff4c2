"""The import target ``food_safety.businesses``: food businesses with their licences from a
market-supervision department's CSV/XLSX, through the registry's import pipeline. A
record is named by its licence number: a known number updates that business and licence,
an unknown one registers a new business."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from civicgrid.platform.audit.actions import record
from civicgrid.platform.org.models import OrgUnit
from civicgrid.plugins import ImportField, ImportTarget

from .actions import BUSINESS_FIELDS, clean_business
from .models import BusinessChange, BusinessKind, FoodBusiness, Licence

CODE = "food_safety.businesses"
KEY = "licence_number"

FIELDS = (
    ImportField(KEY, _l("Licence number"), required=True,
                spellings=("许可证编号", "许可证号", "食品经营许可证编号", "licence no", "license number")),
    ImportField("name", _l("Name"), required=True, spellings=("名称", "经营者名称", "主体名称", "店名", "business name")),
    ImportField("kind", _l("Kind"), required=True, spellings=("类型", "主体类型", "经营类型", "业态", "type")),
    ImportField("address", _l("Address"), required=True, spellings=("地址", "经营地址", "经营场所")),
    ImportField("grid", _l("Grid"), required=True, spellings=("网格", "网格编码", "所属网格", "grid code")),
    ImportField("latitude", _l("Latitude"), spellings=("纬度", "lat")),
    ImportField("longitude", _l("Longitude"), spellings=("经度", "lng", "lon")),
    ImportField("operator_name", _l("Operator"), spellings=("经营者", "负责人", "法定代表人", "联系人")),
    ImportField("operator_phone", _l("Operator's phone"), spellings=("联系电话", "电话", "手机", "phone")),
    ImportField("credit_code", _l("Unified social credit code"), spellings=("统一社会信用代码", "信用代码", "credit code")),
    ImportField("licence_issued_on", _l("Licence issued on"), required=True,
                spellings=("发证日期", "发证时间", "issued on")),
    ImportField("licence_expires_on", _l("Licence expires on"), required=True,
                spellings=("有效期至", "有效期限", "到期日期", "expires on")),
)

# What a department's file says for a kind: the codes, the Chinese names, the English names.
KIND_WORDS = {
    **{kind: kind for kind in BusinessKind.values},
    "餐饮服务": BusinessKind.CATERING, "餐饮": BusinessKind.CATERING, "catering service": BusinessKind.CATERING,
    "食品销售": BusinessKind.SALES, "food sales": BusinessKind.SALES,
    "食品生产": BusinessKind.PRODUCTION, "food production": BusinessKind.PRODUCTION,
    "小作坊": BusinessKind.WORKSHOP, "食品小作坊": BusinessKind.WORKSHOP, "small food workshop": BusinessKind.WORKSHOP,
    "摊贩": BusinessKind.VENDOR, "食品摊贩": BusinessKind.VENDOR, "food stall": BusinessKind.VENDOR,
    "药品零售": BusinessKind.PHARMACY, "药店": BusinessKind.PHARMACY, "drug retail": BusinessKind.PHARMACY,
}


def _date(text: str) -> str:
    """2025-03-01, 2025/3/1, 2025.3.1 or 20250301 as ISO text ("" stays "", nonsense stays for the check)."""
    text = (text or "").strip()
    for separator in ("/", ".", "年"):
        text = text.replace(separator, "-")
    text = text.replace("月", "-").replace("日", "").strip("-")
    if len(text) == 8 and text.isdigit():
        text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    parts = text.split("-")
    if len(parts) == 3 and all(p.isdigit() for p in parts):
        text = f"{int(parts[0]):04d}-{int(parts[1]):02d}-{int(parts[2]):02d}"
    return text


def clean(values: dict, context) -> dict:
    """One file row as the register would hold it, or a ValidationError naming each problem."""
    kind_text = (values.get("kind") or "").strip()
    grid_code = (values.get("grid") or "").strip()
    row = {**values, "kind": KIND_WORDS.get(kind_text.lower(), KIND_WORDS.get(kind_text, kind_text)),
           "licence_issued_on": _date(values.get("licence_issued_on", "")),
           "licence_expires_on": _date(values.get("licence_expires_on", ""))}
    try:
        checked = clean_business(row, grid_lookup=context.grid_id, check_taken=False)
    except ValidationError as exc:
        problems = exc.message_dict
        if "grid" in problems and grid_code:
            problems["grid"] = [_("No grid has the code %(code)s.") % {"code": grid_code}]
        if "kind" in problems and kind_text:
            problems["kind"] = [_("Unknown kind %(kind)s: use 餐饮服务, 食品销售, 食品生产, 小作坊, 摊贩 or 药品零售.")
                                % {"kind": kind_text}]
        raise ValidationError(problems) from exc
    if not checked["has_licence"]:
        raise ValidationError({KEY: [_("Give the licence number.")]})
    return _held(checked, grid_code)


def _held(values: dict, grid_code: str) -> dict:
    """The comparable shape of a record: text, dates and coordinates as text."""
    def text(value):
        return "" if value is None else str(value)

    return {
        KEY: values["licence_number"], "name": values["name"], "kind": values["kind"], "address": values["address"],
        "grid": grid_code, "latitude": text(values["latitude"]), "longitude": text(values["longitude"]),
        "operator_name": values["operator_name"], "operator_phone": values["operator_phone"],
        "credit_code": values["credit_code"], "licence_issued_on": text(values["licence_issued_on"]),
        "licence_expires_on": text(values["licence_expires_on"]),
    }


def current(keys: list[str]) -> dict:
    licences = Licence.objects.filter(number__in=keys).select_related("business", "business__grid")
    held = {}
    for licence in licences:
        business = licence.business
        held[licence.number] = _held({
            "licence_number": licence.number, "name": business.name, "kind": business.kind,
            "address": business.address, "latitude": business.latitude, "longitude": business.longitude,
            "operator_name": business.operator_name, "operator_phone": business.operator_phone,
            "credit_code": business.credit_code, "licence_issued_on": licence.issued_on,
            "licence_expires_on": licence.expires_on}, business.grid.code)
    return held


def _business_values(row: dict, grids: dict[str, int]) -> dict:
    from decimal import Decimal

    values = {name: row[name] for name in BUSINESS_FIELDS if name not in ("grid", "latitude", "longitude")}
    values["grid_id"] = grids[row["grid"]]
    values["latitude"] = Decimal(row["latitude"]) if row["latitude"] else None
    values["longitude"] = Decimal(row["longitude"]) if row["longitude"] else None
    return values


def apply(new: list[dict], changed: list[dict], *, actor) -> None:
    """Register the new rows and update the changed ones (in the batch's transaction)."""
    from datetime import date

    grids = dict(OrgUnit.objects.filter(level=OrgUnit.Level.GRID).values_list("code", "id"))
    user = actor if getattr(actor, "pk", None) else None
    with transaction.atomic():
        businesses = FoodBusiness.objects.bulk_create([
            FoodBusiness(source="import", **_business_values(row, grids)) for row in new])
        Licence.objects.bulk_create([
            Licence(business=business, number=row[KEY], issued_on=date.fromisoformat(row["licence_issued_on"]),
                    expires_on=date.fromisoformat(row["licence_expires_on"]))
            for business, row in zip(businesses, new, strict=True)])
        changes = [BusinessChange(business=business, action="import", actor=user) for business in businesses]
        by_number = {licence.number: licence for licence in Licence.objects.filter(
            number__in=[row[KEY] for row in changed]).select_related("business")}
        for row in changed:
            licence = by_number[row[KEY]]
            business = licence.business
            fields = []
            for name, value in _business_values(row, grids).items():
                if getattr(business, name) != value:
                    setattr(business, name, value)
                    fields.append(name.removesuffix("_id"))
            if fields:
                business.save()
            issued, expires = date.fromisoformat(row["licence_issued_on"]), date.fromisoformat(
                row["licence_expires_on"])
            if (licence.issued_on, licence.expires_on) != (issued, expires):
                licence.issued_on, licence.expires_on = issued, expires
                licence.save(update_fields=["issued_on", "expires_on", "updated_at"])
                fields += ["licence_issued_on", "licence_expires_on"]
            changes.append(BusinessChange(business=business, action="import", fields=fields, actor=user))
        BusinessChange.objects.bulk_create(changes)
        record(action="food_safety.import", actor=user, created=len(new), updated=len(changed))


def target() -> ImportTarget:
    return ImportTarget(code=CODE, label=_l("Food businesses with licences"), fields=FIELDS, key=KEY, clean=clean,
                        current=current, apply=apply)
