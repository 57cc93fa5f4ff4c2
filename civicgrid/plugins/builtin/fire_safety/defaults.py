"""What the module brings into a county: its hazard categories (under the group FIRE, to
the fire brigade D-FIRE) and a starting checklist per kind of unit."""

from __future__ import annotations

from decimal import Decimal

from civicgrid.plugins import CategorySpec

GROUP = "FIRE"
DEPARTMENT = "D-FIRE"


def _leaf(code, name, name_en, hours, urgency="normal", description=""):
    return CategorySpec(code=code, name=name, name_en=name_en, parent=GROUP, department=DEPARTMENT,
                        accept_hours=Decimal("2") if urgency == "normal" else Decimal("1"),
                        handle_hours=Decimal(hours), urgency=urgency, description=description)


CATEGORIES = [
    CategorySpec(code=GROUP, name="消防安全隐患", name_en="Fire hazards", department=DEPARTMENT,
                 description="消防检查发现的隐患（三小场所、群租房、电动自行车充电点）"),
    _leaf("FIRE-PASSAGE", "通道堵塞", "Blocked passage or exit", "24", "urgent",
          "疏散通道、安全出口、楼梯间堵塞或锁闭"),
    _leaf("FIRE-EXTINGUISHER", "灭火器缺失或过期", "Extinguisher missing or expired", "72"),
    _leaf("FIRE-WIRING", "电线私拉乱接", "Improvised wiring", "48", "urgent"),
    _leaf("FIRE-EBIKE-INDOOR", "电动车室内充电", "E-bike charged indoors", "24", "urgent",
          "电动自行车或电池在室内、楼道停放充电"),
    _leaf("FIRE-EVACUATION", "疏散指示/应急照明损坏", "Exit signs or emergency lights broken", "72"),
    _leaf("FIRE-LIVE-WORK", "住人与经营混合", "Living quarters mixed with business", "72", "urgent",
          "“三合一”：生产、经营、储存与住宿混在同一空间"),
    _leaf("FIRE-CHARGER", "充电设施不合规", "Charging equipment unsafe", "48",
          description="充电桩无过载保护、无防雨、无定时断电"),
    _leaf("FIRE-OTHER", "其他消防隐患", "Other fire hazard", "72"),
]

COMMON = [
    ("疏散通道、安全出口畅通，无堵塞、锁闭", "FIRE-PASSAGE"),
    ("灭火器配备齐全且在有效期内", "FIRE-EXTINGUISHER"),
    ("无电线私拉乱接、超负荷用电", "FIRE-WIRING"),
    ("疏散指示标志、应急照明完好有效", "FIRE-EVACUATION"),
]
CHECKLISTS = {
    "small_shop": COMMON + [
        ("无住人与经营混合（“三合一”）", "FIRE-LIVE-WORK"),
        ("无电动车在店内停放充电", "FIRE-EBIKE-INDOOR"),
    ],
    "small_workshop": COMMON + [
        ("生产、储存区域与住宿分开", "FIRE-LIVE-WORK"),
        ("易燃物品存放规范，远离火源", "FIRE-OTHER"),
    ],
    "small_lodging": COMMON + [
        ("客房内无电动车或电池充电", "FIRE-EBIKE-INDOOR"),
        ("经营区域不住人", "FIRE-LIVE-WORK"),
    ],
    "rental_house": [
        ("楼道、楼梯间无杂物堆放", "FIRE-PASSAGE"),
        ("每层配备灭火器且在有效期内", "FIRE-EXTINGUISHER"),
        ("无电线私拉乱接、飞线充电", "FIRE-WIRING"),
        ("电动车未在室内、楼道停放充电", "FIRE-EBIKE-INDOOR"),
        ("应急照明、疏散指示完好", "FIRE-EVACUATION"),
        ("窗户无影响逃生的防盗网", "FIRE-PASSAGE"),
    ],
    "ebike_charging": [
        ("充电设施有过载、短路保护和定时断电", "FIRE-CHARGER"),
        ("充电区配备灭火器且在有效期内", "FIRE-EXTINGUISHER"),
        ("充电区与建筑保持安全距离，通道畅通", "FIRE-PASSAGE"),
        ("线路规范敷设，无私拉乱接", "FIRE-WIRING"),
    ],
}
