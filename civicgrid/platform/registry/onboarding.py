"""What every new tenant's registry starts with: the province's care and service groups.

Runs as an onboarding step (``CIVICGRID_ONBOARDING_STEPS``), inside the
onboarding transaction, in the new tenant's schema. County admins change the
kinds afterwards.
"""

from __future__ import annotations

from civicgrid.platform.accounts.staff.models import StaffRole

from .models import CareKind

_ALL_OPERATORS = [StaffRole.COUNTY_ADMIN, StaffRole.COMMAND_OPERATOR, StaffRole.TOWNSHIP_OPERATOR,
                  StaffRole.COMMUNITY_OPERATOR, StaffRole.GRID_WORKER]
_OFFICES_ONLY = [StaffRole.COUNTY_ADMIN, StaffRole.TOWNSHIP_OPERATOR]

# (code, name, sensitive, granted roles, fields)
DEFAULT_CARE_KINDS = [
    ("minimum_living", "低保对象", False, _ALL_OPERATORS, [
        {"name": "certificate_no", "label": "低保证号", "type": "text", "required": True},
        {"name": "monthly_allowance", "label": "月保障金（元）", "type": "decimal", "required": True},
        {"name": "approved_on", "label": "批准日期", "type": "date", "required": True},
    ]),
    ("elderly_alone", "独居老人", False, _ALL_OPERATORS, [
        {"name": "care_level", "label": "照护等级", "type": "choice", "required": True,
         "choices": ["自理", "半失能", "失能"]},
        {"name": "emergency_contact", "label": "紧急联系人", "type": "text", "required": False},
        {"name": "visit_weekly", "label": "每周走访", "type": "boolean", "required": False},
    ]),
    ("left_behind_child", "留守儿童", False, _ALL_OPERATORS, [
        {"name": "guardian", "label": "监护人", "type": "text", "required": True},
        {"name": "school", "label": "就读学校", "type": "text", "required": False},
        {"name": "parents_working_in", "label": "父母务工地", "type": "text", "required": False},
    ]),
    ("disability", "残疾人", False, _ALL_OPERATORS, [
        {"name": "certificate_no", "label": "残疾证号", "type": "text", "required": True},
        {"name": "category", "label": "残疾类别", "type": "choice", "required": True,
         "choices": ["视力", "听力", "言语", "肢体", "智力", "精神", "多重"]},
        {"name": "grade", "label": "残疾等级", "type": "integer", "required": True},
    ]),
    ("community_correction", "社区矫正对象", True, _OFFICES_ONLY, [
        {"name": "correction_type", "label": "矫正类别", "type": "choice", "required": True,
         "choices": ["管制", "缓刑", "假释", "暂予监外执行"]},
        {"name": "starts_on", "label": "矫正起始日期", "type": "date", "required": True},
        {"name": "ends_on", "label": "矫正结束日期", "type": "date", "required": True},
    ]),
    ("mental_health", "严重精神障碍患者", True, _OFFICES_ONLY, [
        {"name": "risk_level", "label": "危险性评估等级", "type": "integer", "required": True},
        {"name": "guardian", "label": "监护人", "type": "text", "required": True},
    ]),
]


def seed_care_kinds(*, tenant, acting_user) -> None:
    """seeding the care and service groups"""
    for code, name, sensitive, roles, fields in DEFAULT_CARE_KINDS:
        CareKind.objects.get_or_create(code=code, defaults={
            "name": name, "fields": fields, "granted_roles": [str(r) for r in roles], "is_sensitive": sensitive,
        })
