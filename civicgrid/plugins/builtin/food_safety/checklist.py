"""The food checklist a tenant starts with (seeded when the module is switched on; idempotent).
Item texts are Chinese data, as category names are: rows the county keeps."""

from __future__ import annotations

from . import categories as c
from .models import BusinessKind, CheckItem

FOOD = [BusinessKind.CATERING, BusinessKind.SALES, BusinessKind.PRODUCTION, BusinessKind.WORKSHOP,
        BusinessKind.VENDOR]
PHARMACY = [BusinessKind.PHARMACY]

# (code, text, category, kinds: [] = every kind)
ITEMS = [
    ("licence", "证照公示：许可证、营业执照在显著位置公示且在有效期内", c.LICENCE_DISPLAY, []),
    ("health", "从业人员健康证：在岗人员持有效健康证明", c.HEALTH_CERT, []),
    ("trace", "索证索票：进货查验记录、供货者资质和票据齐全", c.TRACE, []),
    ("expired", "过期食品：无过期、变质、来源不明的食品和原料", c.EXPIRED_FOOD, FOOD),
    ("hygiene", "卫生环境：场所整洁，防鼠防蝇防尘设施完好，餐用具清洗消毒", c.HYGIENE, FOOD),
    ("cold", "冷藏设施：冷藏冷冻设备运转正常、温度达标、生熟分开", c.COLD_CHAIN, FOOD),
    ("prescription", "处方药凭处方销售，执业药师在岗", c.DRUG, PHARMACY),
    ("drug_expired", "无过期失效、来源不明的药品", c.DRUG, PHARMACY),
    ("drug_storage", "药品储存：阴凉柜、温湿度记录符合要求", c.HYGIENE, PHARMACY),
]


def seed_checklist() -> int:
    """Adds the items a tenant does not have yet (by code); returns how many were added."""
    have = set(CheckItem.objects.values_list("code", flat=True))
    rows = [CheckItem(code=code, text=text, category_code=category, kinds=[str(k) for k in kinds], position=i)
            for i, (code, text, category, kinds) in enumerate(ITEMS, start=1) if code not in have]
    CheckItem.objects.bulk_create(rows)
    return len(rows)


def items_for(business) -> list[CheckItem]:
    return [item for item in CheckItem.objects.filter(is_active=True).order_by("position", "id")
            if item.applies_to(business.kind)]
