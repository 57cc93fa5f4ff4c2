"""The food-safety module's case categories: one group and its leaves, routed to market
supervision (D-SAMR). Names are Chinese data (the tenant's rows), as the province's are."""

from __future__ import annotations

from decimal import Decimal

from civicgrid.plugins import CategorySpec

DEPARTMENT = "D-SAMR"
GROUP = "FOOD"
DAY = Decimal("7.5")  # working hours

UNLICENSED = "FOOD-UNLICENSED"
EXPIRED_FOOD = "FOOD-EXPIRED"
HYGIENE = "FOOD-HYGIENE"
DRUG = "FOOD-DRUG"
COMPLAINT = "FOOD-COMPLAINT"
LICENCE_DISPLAY = "FOOD-LICENCE"
HEALTH_CERT = "FOOD-HEALTH"
TRACE = "FOOD-TRACE"
COLD_CHAIN = "FOOD-COLD"

SPECS = [
    CategorySpec(code=GROUP, name="食品药品安全", name_en="Food and drug safety", department=DEPARTMENT),
    CategorySpec(code=UNLICENSED, name="无证经营", name_en="Trading without a licence", parent=GROUP,
                 accept_hours=Decimal("2"), handle_hours=5 * DAY, department=DEPARTMENT,
                 description="无食品经营许可证或许可证过期仍在经营"),
    CategorySpec(code=EXPIRED_FOOD, name="过期变质食品", name_en="Expired or spoiled food", parent=GROUP,
                 accept_hours=Decimal("1"), handle_hours=Decimal("8"), urgency="urgent", department=DEPARTMENT,
                 description="销售、使用过期或腐败变质的食品、食品原料"),
    CategorySpec(code=HYGIENE, name="卫生条件差", name_en="Poor hygiene", parent=GROUP,
                 accept_hours=Decimal("2"), handle_hours=3 * DAY, department=DEPARTMENT,
                 description="加工经营场所脏乱、虫害、餐具未消毒"),
    CategorySpec(code=DRUG, name="药品违规销售", name_en="Unlawful drug sales", parent=GROUP,
                 accept_hours=Decimal("1"), handle_hours=2 * DAY, urgency="urgent", department=DEPARTMENT,
                 description="处方药无处方销售、销售假劣药品、药品陈列储存不当"),
    CategorySpec(code=COMPLAINT, name="食品投诉举报", name_en="Food complaint", parent=GROUP,
                 accept_hours=Decimal("2"), handle_hours=5 * DAY, department=DEPARTMENT,
                 description="群众对食品经营主体的投诉举报"),
    CategorySpec(code=LICENCE_DISPLAY, name="证照未公示", name_en="Licence not displayed", parent=GROUP,
                 accept_hours=Decimal("2"), handle_hours=5 * DAY, department=DEPARTMENT,
                 description="食品经营许可证、营业执照未在显著位置公示"),
    CategorySpec(code=HEALTH_CERT, name="从业人员无健康证", name_en="Staff without health certificates",
                 parent=GROUP, accept_hours=Decimal("2"), handle_hours=5 * DAY, department=DEPARTMENT,
                 description="从业人员未取得或未携带有效健康证明"),
    CategorySpec(code=TRACE, name="索证索票不全", name_en="Missing supplier records", parent=GROUP,
                 accept_hours=Decimal("2"), handle_hours=5 * DAY, department=DEPARTMENT,
                 description="进货查验记录、供货者许可证和票据不全"),
    CategorySpec(code=COLD_CHAIN, name="冷藏设施不合格", name_en="Faulty cold storage", parent=GROUP,
                 accept_hours=Decimal("1"), handle_hours=2 * DAY, department=DEPARTMENT,
                 description="冷藏冷冻设施损坏、温度不达标或生熟混放"),
]

LEAVES = [spec.code for spec in SPECS if spec.parent]
