"""The module's case categories: one group and its leaves, each with its department and deadlines."""

from decimal import Decimal

from civicgrid.plugins import CategorySpec

GROUP = "SCHOOL"
CATEGORIES = [
    CategorySpec(code=GROUP, name="学校及周边安全", name_en="School surroundings safety",
                 description="学校及周边200米范围内的治安、交通、经营秩序和未成年人保护问题"),
    CategorySpec(code="SCHOOL-ORDER", name="校园周边治安", name_en="Public order around a school", parent=GROUP,
                 description="校门口及周边滋扰、斗殴、可疑人员徘徊等", accept_hours=Decimal("1"),
                 handle_hours=Decimal("8"), urgency="urgent", department="D-PSB"),
    CategorySpec(code="SCHOOL-TRAFFIC", name="周边交通安全", name_en="Traffic safety around a school", parent=GROUP,
                 description="上下学时段拥堵、违停、缺少斑马线或减速设施、接送车辆违规等",
                 accept_hours=Decimal("2"), handle_hours=Decimal("24"), department="D-PSB"),
    CategorySpec(code="SCHOOL-VENDORS", name="周边无证经营/流动摊贩", name_en="Unlicensed trading and street vendors "
                 "near a school", parent=GROUP, description="校门口流动摊贩、无证食品经营、“三无”食品销售等",
                 accept_hours=Decimal("2"), handle_hours=Decimal("24"), department="D-SAMR"),
    CategorySpec(code="SCHOOL-MINORS", name="周边网吧/娱乐场所违规接纳未成年人", name_en="Internet cafés or "
                 "entertainment venues admitting minors", parent=GROUP,
                 description="学校周边网吧、歌舞厅、游戏厅等违规接纳未成年人", accept_hours=Decimal("2"),
                 handle_hours=Decimal("16"), urgency="urgent", department="D-PSB"),
    CategorySpec(code="SCHOOL-FACILITY", name="校园周边设施隐患", name_en="Hazardous facilities near a school",
                 parent=GROUP, description="周边围墙、护栏、井盖、照明等设施损坏危及学生安全",
                 accept_hours=Decimal("2"), handle_hours=Decimal("37.5"), department="D-EDU"),
]
