"""The province's default case categories and the county departments they route to.

Onboarding copies these into a new tenant's Category and Department tables; from then on the
county admin owns its copy and edits it. They are plain data (no models, no Django imports) so
that the onboarding step, the Category model's seed migration and tests can all read them
without a database.

Names are Chinese data, not interface text: they become rows a county edits, so they do not go
through the translation catalogue. ``name_en`` is kept for the English console and for logs.

Where the numbers come from:
- Groups follow what the Zhejiang system records (矛盾纠纷苗头、事件隐患、群众诉求、民生服务需求,
  seeds 000 and 004) plus the 城市管理 and 生态环境 lines that Shenzhen's 136 hazard types and
  Shangcheng's smart urban management carry (seeds 002, 003).
- Deadlines are working hours (7.5 per working day) on the tenant's calendar. Ordinary disputes
  and requests get 5 working days (37.5 h), as 12345 hotlines give help requests; consultations
  2 days; cases needing investigation 10 days; imminent danger is accepted within half an hour and
  made safe within 4 hours. Shangcheng brought average handling from 7 working days to 31 hours
  (seed 003), so 5 days is a ceiling, not a target.
- ``department`` names who handles a leaf by default; the county's routing rules (category +
  area) may send it elsewhere. An empty code means the command centre dispatches by hand because
  the right body depends on the facts (e.g. who expropriated the land).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

URGENCY_LEVELS = ("normal", "urgent", "critical")
HOURS_PER_WORKING_DAY = Decimal("7.5")


@dataclass(frozen=True)
class DefaultDepartment:
    code: str
    name: str
    name_en: str


@dataclass(frozen=True)
class DefaultCategory:
    code: str  # stable across tenants and releases: aggregates and routing rules refer to it
    name: str
    name_en: str
    parent: str | None  # a group's code; None for a group
    department: str = ""  # "" → the command centre dispatches by hand
    accept_hours: Decimal = Decimal("2")  # working hours to accept (受理)
    handle_hours: Decimal = Decimal("40")  # working hours to handle (办结)
    urgency: str = "normal"
    description: str = ""


def _days(n: str) -> Decimal:
    return Decimal(n) * HOURS_PER_WORKING_DAY


# The first five are the codes the demo org tree already creates (org/demo.py); keep them.
DEFAULT_DEPARTMENTS: tuple[DefaultDepartment, ...] = (
    DefaultDepartment("D-PSB", "公安分局", "Public Security Bureau branch"),
    DefaultDepartment("D-JUS", "司法局", "Justice Bureau"),
    DefaultDepartment("D-SAMR", "市场监督管理局", "Market Supervision Administration"),
    DefaultDepartment("D-FIRE", "消防救援大队", "Fire and Rescue Brigade"),
    DefaultDepartment("D-EDU", "教育局", "Education Bureau"),
    DefaultDepartment("D-URBAN", "综合行政执法局", "Comprehensive Administrative Law Enforcement Bureau"),
    DefaultDepartment("D-HOUSING", "住房和城乡建设局", "Housing and Urban-Rural Development Bureau"),
    DefaultDepartment("D-ENV", "生态环境分局", "Ecology and Environment Bureau branch"),
    DefaultDepartment("D-CIVIL", "民政局", "Civil Affairs Bureau"),
    DefaultDepartment("D-HRSS", "人力资源和社会保障局", "Human Resources and Social Security Bureau"),
    DefaultDepartment("D-TRANS", "交通运输局", "Transport Bureau"),
    DefaultDepartment("D-WATER", "水利局", "Water Resources Bureau"),
    DefaultDepartment("D-HEALTH", "卫生健康局", "Health Bureau"),
    DefaultDepartment("D-EMER", "应急管理局", "Emergency Management Bureau"),
    DefaultDepartment("D-NATRES", "自然资源和规划分局", "Natural Resources and Planning Bureau branch"),
    DefaultDepartment("D-AGRI", "农业农村局", "Agriculture and Rural Affairs Bureau"),
    DefaultDepartment("D-PETITION", "信访局", "Letters and Visits Bureau"),
    DefaultDepartment("D-DPF", "残疾人联合会", "Disabled Persons' Federation"),
    # A utility company, not a government body; the Zhejiang system counts power hazard reports (seed 000).
    DefaultDepartment("D-POWER", "供电公司", "Power supply company"),
)

C = DefaultCategory
_FIVE_DAYS = {"accept_hours": Decimal("2"), "handle_hours": _days("5")}
_TEN_DAYS = {"accept_hours": Decimal("2"), "handle_hours": _days("10")}
_TWO_DAYS = {"accept_hours": Decimal("2"), "handle_hours": _days("2")}
_URGENT = {"accept_hours": Decimal("1"), "handle_hours": Decimal("8"), "urgency": "urgent"}
_CRITICAL = {"accept_hours": Decimal("0.5"), "handle_hours": Decimal("4"), "urgency": "critical"}

DEFAULT_CATEGORIES: tuple[DefaultCategory, ...] = (
    # Groups.
    C("DSP", "矛盾纠纷", "Disputes", None, description="群众之间、群众与单位之间需要调处的矛盾纠纷"),
    C("HAZ", "安全隐患", "Safety hazards", None, description="可能造成人身伤害或财产损失、需要排除的隐患"),
    C("URB", "城市管理", "Urban management", None, description="市容环境、市政设施和城乡秩序问题"),
    C("ENV", "生态环境", "Environment", None, description="污染、噪声、油烟等影响环境和居民生活的问题"),
    C("PUB", "社会治安", "Public order", None, description="网格内发现的治安隐患和需要关注的情况"),
    C("REQ", "民生诉求", "Residents' requests", None, description="群众对公共事务的投诉、诉求和咨询"),
    C("SVC", "公共服务需求", "Service needs", None, description="困难群体和居民需要上门或代办的公共服务"),

    # 矛盾纠纷: mediation first (人民调解 under the Justice Bureau), the line department where a law gives it one.
    C("DSP-NEIGHBOUR", "邻里纠纷", "Neighbour dispute", "DSP", "D-JUS", **_FIVE_DAYS,
      description="相邻通行、采光、漏水、宅基地边界等邻里之间的纠纷"),
    C("DSP-FAMILY", "婚姻家庭纠纷", "Marriage and family dispute", "DSP", "D-JUS", **_FIVE_DAYS,
      description="婚姻、赡养、抚养、继承等家庭内部纠纷，有家暴苗头的及时报告"),
    C("DSP-WAGE", "劳资纠纷（欠薪）", "Labour dispute (unpaid wages)", "DSP", "D-HRSS",
      accept_hours=Decimal("1"), handle_hours=_days("5"), urgency="urgent",
      description="拖欠工资、劳动合同、工伤待遇等用工纠纷"),
    C("DSP-PROPERTY", "物业纠纷", "Property management dispute", "DSP", "D-HOUSING", **_FIVE_DAYS,
      description="业主与物业企业之间的服务、收费、维修资金等纠纷"),
    C("DSP-LAND", "土地山林纠纷", "Land and forest dispute", "DSP", "D-NATRES", **_TEN_DAYS,
      description="土地、山林、宅基地的权属和边界纠纷"),
    C("DSP-CONTRACT", "农村土地承包经营纠纷", "Rural land contract dispute", "DSP", "D-AGRI", **_TEN_DAYS,
      description="农村土地承包、流转和经营权纠纷"),
    C("DSP-MEDICAL", "医患纠纷", "Doctor-patient dispute", "DSP", "D-HEALTH",
      accept_hours=Decimal("1"), handle_hours=_days("5"), urgency="urgent",
      description="患者与医疗机构之间因诊疗引起的纠纷，防止聚集闹事"),
    C("DSP-CONSUMER", "消费纠纷", "Consumer dispute", "DSP", "D-SAMR",
      accept_hours=Decimal("2"), handle_hours=_days("7"),
      description="商品质量、预付卡、售后服务等消费者与经营者之间的纠纷"),
    C("DSP-EXPROPRIATION", "征地拆迁纠纷", "Land expropriation and demolition dispute", "DSP", "", **_TEN_DAYS,
      description="征地补偿、房屋征收和安置引起的纠纷，由指挥中心按项目派给实施单位"),
    C("DSP-RENTAL", "房屋租赁纠纷", "Tenancy dispute", "DSP", "D-JUS", **_FIVE_DAYS,
      description="房东与租客之间的租金、押金、退租纠纷"),

    # 安全隐患: what can hurt someone soon is accepted within half an hour and made safe the same day.
    C("HAZ-FIRE-EXIT", "消防通道堵塞", "Blocked fire lane or exit", "HAZ", "D-FIRE", **_URGENT,
      description="消防车通道、楼梯间、安全出口被占用、堵塞或封闭"),
    C("HAZ-EBIKE", "电动车违规充电", "Unsafe e-bike charging", "HAZ", "D-FIRE", **_URGENT,
      description="电动自行车进楼入户、楼道停放、飞线充电"),
    C("HAZ-GAS", "燃气安全隐患", "Gas safety hazard", "HAZ", "D-HOUSING", **_CRITICAL,
      description="燃气泄漏、气瓶违规存放使用、燃气管道老化损坏"),
    C("HAZ-DANGEROUS-HOUSE", "危房", "Dangerous building", "HAZ", "D-HOUSING",
      accept_hours=Decimal("1"), handle_hours=_days("2"), urgency="urgent",
      description="房屋开裂、倾斜、承重结构损坏等危及居住安全的情况"),
    C("HAZ-MANHOLE", "井盖缺失", "Missing or broken manhole cover", "HAZ", "D-URBAN", **_CRITICAL,
      description="道路、人行道上的井盖缺失、破损、移位"),
    C("HAZ-HAZCHEM", "危险化学品隐患", "Hazardous chemicals hazard", "HAZ", "D-EMER", **_CRITICAL,
      description="危险化学品非法储存、经营、运输或泄漏"),
    C("HAZ-WORKPLACE", "企业安全生产隐患", "Workplace safety hazard", "HAZ", "D-EMER",
      accept_hours=Decimal("1"), handle_hours=_days("2"), urgency="urgent",
      description="工矿商贸企业和小作坊违规生产、设备设施存在隐患"),
    C("HAZ-ELEVATOR", "电梯安全隐患", "Lift safety hazard", "HAZ", "D-SAMR", **_URGENT,
      description="电梯故障频发、困人、超期未检等特种设备隐患"),
    C("HAZ-GEOLOGICAL", "地质灾害隐患", "Geological hazard", "HAZ", "D-NATRES", **_CRITICAL,
      description="山体滑坡、崩塌、地面塌陷及其前兆"),
    C("HAZ-FLOOD", "防汛防台隐患", "Flood and typhoon hazard", "HAZ", "D-WATER", **_URGENT,
      description="堤防、山塘、水库渗漏险情和河道行洪障碍"),
    C("HAZ-POWER", "电力设施隐患", "Power line hazard", "HAZ", "D-POWER", **_URGENT,
      description="电线私拉乱接、线路老化裸露、电杆倾斜、变压器异常"),
    C("HAZ-FOOD", "食品安全隐患", "Food safety hazard", "HAZ", "D-SAMR",
      accept_hours=Decimal("1"), handle_hours=_days("2"), urgency="urgent",
      description="无证经营、过期变质食品、小作坊卫生条件差等食品安全问题"),
    C("HAZ-FALLING", "高空坠物隐患", "Falling object hazard", "HAZ", "D-URBAN", **_URGENT,
      description="外墙瓷砖脱落、广告牌松动、阳台杂物可能坠落"),

    # 城市管理: mostly the comprehensive enforcement bureau, which in Zhejiang also maintains municipal facilities.
    C("URB-ROAD", "道路坑洼", "Potholed road", "URB", "D-URBAN", accept_hours=Decimal("2"), handle_hours=_days("3"),
      description="城区道路、人行道坑洼、破损、沉陷"),
    C("URB-RURAL-ROAD", "农村公路损坏", "Damaged rural road", "URB", "D-TRANS", **_FIVE_DAYS,
      description="农村公路路面损坏、塌方、标志标线缺失"),
    C("URB-STREETLIGHT", "路灯损坏", "Broken streetlight", "URB", "D-URBAN",
      accept_hours=Decimal("2"), handle_hours=_days("3"),
      description="路灯不亮、灯杆倾斜、线路外露"),
    C("URB-ILLEGAL-BUILDING", "违章搭建", "Illegal construction", "URB", "D-URBAN", **_TEN_DAYS,
      description="未经许可搭建、加层、扩建和占用公共空间的建筑物构筑物"),
    C("URB-STREET-VENDOR", "占道经营", "Street vending on public road", "URB", "D-URBAN", **_TWO_DAYS,
      description="流动摊贩和店铺出店经营占用道路、人行道"),
    C("URB-GARBAGE", "垃圾乱堆放", "Dumped rubbish", "URB", "D-URBAN", **_TWO_DAYS,
      description="生活垃圾、建筑垃圾乱堆乱倒，垃圾清运不及时"),
    C("URB-PARKING", "人行道违停", "Parking on pavement", "URB", "D-URBAN", **_TWO_DAYS,
      description="机动车、非机动车占用人行道和盲道停放"),
    C("URB-WATERLOGGING", "道路积水", "Waterlogged road", "URB", "D-URBAN", **_URGENT,
      description="暴雨后道路、地下通道积水，排水设施堵塞"),

    # 生态环境: odours and noise are nuisance now, so two working days; pollution at source needs inspection.
    C("ENV-RIVER", "河道污染", "River pollution", "ENV", "D-ENV", **_FIVE_DAYS,
      description="河道水体发黑发臭、偷排污水、漂浮垃圾"),
    C("ENV-EMISSION", "企业排污", "Industrial discharge", "ENV", "D-ENV",
      accept_hours=Decimal("1"), handle_hours=_days("2"), urgency="urgent",
      description="企业偷排废水、废气，刺激性异味"),
    C("ENV-COOKING-FUMES", "餐饮油烟", "Restaurant cooking fumes", "ENV", "D-URBAN", **_FIVE_DAYS,
      description="餐饮店油烟直排、未装净化设施、排烟口朝向居民"),
    C("ENV-NOISE-NEIGHBOUR", "噪音扰民", "Neighbourhood noise", "ENV", "D-PSB", **_TWO_DAYS,
      description="娱乐场所、广场舞、装修、商铺喇叭等社会生活噪声扰民"),
    C("ENV-NOISE-CONSTRUCTION", "施工噪音扰民", "Construction noise", "ENV", "D-URBAN", **_TWO_DAYS,
      description="建筑工地夜间施工、机械噪声扰民"),
    C("ENV-BURNING", "露天焚烧", "Open burning", "ENV", "D-ENV", **_URGENT,
      description="露天焚烧垃圾、秸秆、废旧物品"),

    # 社会治安: things a grid worker sees on a round; what needs an officer now goes to 110 first.
    C("PUB-SPECIAL-GROUP", "特殊人群异常", "Person under care in difficulty", "PUB", "", **_URGENT,
      description="社区矫正对象、严重精神障碍患者等服务管理对象失联或出现异常，按人员类别派给司法、公安或卫健"),
    C("PUB-RENTAL-HOUSING", "出租房屋治安隐患", "Rented housing hazard", "PUB", "D-PSB", **_FIVE_DAYS,
      description="群租、租住人员未登记、出租房屋内违规生产经营"),
    C("PUB-FRAUD", "电信网络诈骗风险", "Telecom fraud risk", "PUB", "D-PSB", **_CRITICAL,
      description="发现居民正在被电信网络诈骗或即将转账"),
    C("PUB-SCHOOL", "校园周边安全隐患", "School surroundings hazard", "PUB", "D-EDU",
      accept_hours=Decimal("1"), handle_hours=_days("2"), urgency="urgent",
      description="学校周边交通秩序、无证摊贩、网吧和娱乐场所等隐患"),

    # 民生诉求: 12345 practice is 5 working days for help requests, 2 for consultations.
    C("REQ-POWER-OUTAGE", "停电", "Power outage", "REQ", "D-POWER", **_URGENT,
      description="居民区、村庄突发停电或电压异常"),
    C("REQ-WATER-OUTAGE", "停水及水质问题", "Water outage or quality", "REQ", "D-WATER", **_URGENT,
      description="城乡供水中断、水压不足、自来水浑浊有异味"),
    C("REQ-OLD-ESTATE", "老旧小区设施维修", "Old residential estate repairs", "REQ", "D-HOUSING",
      accept_hours=Decimal("2"), handle_hours=_days("10"),
      description="无物业老旧小区的屋面漏水、管网、楼道等公共部位维修"),
    C("REQ-SCHOOLING", "教育入学诉求", "School enrolment request", "REQ", "D-EDU", **_FIVE_DAYS,
      description="子女入学、转学、校外培训退费等教育方面的诉求"),
    C("REQ-MEDICAL-SERVICE", "医疗服务投诉", "Medical service complaint", "REQ", "D-HEALTH", **_FIVE_DAYS,
      description="医疗机构服务态度、收费、就医秩序方面的投诉"),
    C("REQ-SOCIAL-INSURANCE", "社保办理诉求", "Social insurance request", "REQ", "D-HRSS", **_FIVE_DAYS,
      description="养老、失业、工伤保险的参保缴费和待遇领取问题"),
    C("REQ-POLICY", "政策咨询", "Policy enquiry", "REQ", "", accept_hours=Decimal("1"), handle_hours=_days("2"),
      description="群众对办事流程、政策规定的咨询，由指挥中心答复或转相关部门"),
    C("REQ-PETITION", "信访事项转办", "Petition referred for handling", "REQ", "D-PETITION",
      accept_hours=_days("1"), handle_hours=_days("15"),
      description="信访部门交由属地和部门办理的初信初访事项"),

    # 公共服务需求: the people the registry marks as needing care; a lost elderly person is an emergency.
    C("SVC-ELDERLY-ALONE", "独居老人关怀", "Care for elderly living alone", "SVC", "D-CIVIL",
      accept_hours=Decimal("2"), handle_hours=_days("3"),
      description="独居、空巢、失能老人的探访、照料和居家养老服务需求"),
    C("SVC-MINIMUM-LIVING", "低保申请咨询", "Minimum living allowance enquiry", "SVC", "D-CIVIL", **_TWO_DAYS,
      description="最低生活保障、特困供养的申请条件、材料和进度咨询"),
    C("SVC-HARDSHIP", "困难群众临时救助", "Emergency hardship assistance", "SVC", "D-CIVIL",
      accept_hours=Decimal("1"), handle_hours=_days("2"), urgency="urgent",
      description="因病、因灾、突发事故导致生活陷入困境需要临时救助"),
    C("SVC-DISABILITY", "残疾人帮扶", "Support for disabled people", "SVC", "D-DPF", **_FIVE_DAYS,
      description="残疾人证办理、康复辅具、无障碍改造和生活补贴需求"),
    C("SVC-EMPLOYMENT", "就业帮扶", "Employment support", "SVC", "D-HRSS", **_FIVE_DAYS,
      description="失业人员、就业困难人员的岗位推荐、技能培训需求"),
    C("SVC-CHILDREN", "留守困境儿童关爱", "Care for left-behind children", "SVC", "D-CIVIL",
      accept_hours=Decimal("2"), handle_hours=_days("3"),
      description="留守儿童、困境儿童缺乏监护、生活困难需要关爱帮扶"),
    C("SVC-MISSING-PERSON", "走失人员查找", "Missing person", "SVC", "D-PSB", **_CRITICAL,
      description="失智老人、儿童等走失人员的查找和送返"),
)


def groups() -> list[DefaultCategory]:
    return [c for c in DEFAULT_CATEGORIES if c.parent is None]


def leaves() -> list[DefaultCategory]:
    return [c for c in DEFAULT_CATEGORIES if c.parent is not None]
