"""Synthetic Chinese cases for the search benchmark, as a county's hotline and grid
workers would write them: a problem of one of twenty kinds at a street, a
compound and a building, told in three to six fragments with times, effects and
requests, and a few timeline comments by the people who handled it.

Each case is drawn from a seeded generator, so two runs index the same million
cases. The fragments combine into millions of distinct texts; words are as
common as in real reports (a kind's words in 2–8 % of cases, a street's in 2 %,
a building number's in far fewer).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

STREETS = ("东坡路 解放路 延安路 庆春路 凤起路 建国路 中河路 望江路 清泰街 河坊街 南星路 秋涛路 江城路 钱江路 "
           "之江路 复兴路 梅花碑 鼓楼 吴山路 清波街 湖滨路 平海路 开元路 惠民路 小营巷 西湖大道 浣纱路 "
           "定安路 劳动路 白马庙巷 城头巷 候潮路 近江路 婺江路 水澄桥 九堡路 笕桥路 丁桥路 彭埠路 新塘路 "
           "景芳路 采荷路 凯旋路 天城路 机场路 秋石路 德胜路 艮山路 九环路").split()
COMPOUNDS = ("金色家园 阳光花园 翠苑小区 景芳三区 采荷新村 望江家园 紫阳小区 清泰公寓 湖滨花园 钱江新城 "
             "南星嘉园 近江家园 复兴南苑 凯旋新村 天城东苑 丁桥嘉苑 九堡家园 彭埠新苑 笕桥花园 红普南苑 "
             "绿城桂花园 江锦花苑 春江花月 东方润园 市民公寓 五福新村 朝晖新村 大关小区 和睦新村 古荡新村").split()
PLACES = ("菜市场门口 公交站旁 小区东门 地下车库 楼道里 单元门口 幼儿园附近 学校门口 沿街商铺 十字路口 "
          "人行道上 绿化带里 河道边 公园入口 健身广场 自行车棚 垃圾房旁 配电房边 消防通道 楼顶平台").split()

# (category code, titles, what was seen, what it caused)
KINDS = [
    ("DSP-NEIGHBOUR", ["楼上漏水严重", "邻里漏水纠纷", "装修噪音扰民", "邻居占用公共楼道", "楼上高空抛物", "宠物狗扰民"],
     ["楼上卫生间漏水渗到楼下天花板", "装修电钻声从早到晚不停", "邻居在楼道堆放杂物和旧家具", "楼上经常往下扔垃圾",
      "邻居养的狗夜里一直叫", "两户因为漏水赔偿吵了起来"],
     ["楼下墙面发霉脱落", "影响老人和小孩休息", "双方多次争吵差点动手", "楼道通行困难"]),
    ("URB-STREET-VENDOR", ["占道经营", "流动摊贩占道", "早餐摊占用人行道", "夜市烧烤占道", "水果摊占道经营"],
     ["摊贩把三轮车停在人行道上卖水果", "早餐摊点占用盲道经营", "烧烤摊晚上占道经营油烟很大", "流动摊贩沿街叫卖"],
     ["行人只能走机动车道", "地面油污难以清理", "晚上十一点后还很吵"]),
    ("URB-STREETLIGHT", ["路灯不亮", "路灯损坏", "小区路灯长亮", "路灯杆倾斜"],
     ["一排路灯连续一周晚上不亮", "路灯灯罩掉落挂在半空", "路灯白天也一直亮着", "路灯杆被车撞歪"],
     ["晚上路面漆黑行人摔倒", "存在安全隐患", "浪费电"]),
    ("HAZ-MANHOLE", ["井盖缺失", "井盖破损", "窨井盖松动", "雨水井堵塞"],
     ["人行道上的井盖不见了", "井盖裂开一条大缝", "车辆经过井盖哐当作响", "雨水井被落叶和泥沙堵住"],
     ["有人差点掉进去", "晚上经过很危险", "下雨路面积水"]),
    ("URB-GARBAGE", ["垃圾未及时清运", "垃圾桶满溢", "建筑垃圾乱堆", "垃圾分类不规范"],
     ["垃圾房三天没有清运", "垃圾桶满了溢到地上", "装修建筑垃圾堆在路边", "居民垃圾分类混投"],
     ["气味很大招苍蝇", "夏天臭气熏天", "影响小区环境卫生"]),
    ("URB-ILLEGAL-BUILDING", ["违章搭建", "楼顶违建", "私自扩建阳台", "占用绿地搭棚"],
     ["有住户在楼顶平台搭建彩钢房", "一楼住户私自扩建院子", "商铺私自搭建雨棚", "有人占用绿化带搭棚养鸡"],
     ["存在安全隐患", "破坏小区整体环境", "邻居意见很大"]),
    ("ENV-NOISE-CONSTRUCTION", ["夜间施工噪音", "广场舞噪音扰民", "商铺音响噪音", "工地噪音"],
     ["附近工地晚上十点以后还在施工", "广场舞音响开得很大", "商铺门口音响循环播放促销", "渣土车夜间进出"],
     ["影响居民休息", "孩子没法写作业", "多次反映没有改善"]),
    ("ENV-COOKING-FUMES", ["餐饮油烟扰民", "露天焚烧垃圾", "烧烤油烟"],
     ["楼下饭店油烟直接排到窗口", "有人在空地焚烧垃圾", "烧烤店排烟管道没有净化"],
     ["家里窗户不敢开", "空气很差", "咳嗽不止"]),
    ("ENV-RIVER", ["河道污染", "污水外溢", "道路积水"],
     ["河道水面漂浮垃圾发黑发臭", "化粪池污水外溢到路面", "下雨后路口积水严重"],
     ["气味难闻", "车辆无法通行", "蚊虫很多"]),
    ("HAZ-FIRE-EXIT", ["消防通道堵塞", "楼道堆物", "占用消防通道停车"],
     ["消防通道被私家车长期占用", "楼道堆满纸箱和旧家具", "电动车停在安全出口"],
     ["发生火灾消防车进不来", "存在严重消防隐患", "逃生通道不畅"]),
    ("HAZ-EBIKE", ["飞线充电", "电动车楼道充电", "私拉电线充电"],
     ["有住户从窗户私拉电线给电瓶车充电", "电动车推进楼道充电", "充电线横穿人行道"],
     ["夜间无人看管存在起火隐患", "电线老化裸露", "容易引发火灾"]),
    ("HAZ-GAS", ["燃气泄漏", "餐馆违规使用液化气", "燃气管道老化"],
     ["楼道里闻到很大的煤气味", "小餐馆厨房堆放多个液化气钢瓶", "燃气管道锈蚀严重"],
     ["随时可能爆炸", "居民很担心", "需要马上检查"]),
    ("HAZ-DANGEROUS-HOUSE", ["房屋墙体开裂", "外墙瓷砖脱落", "危房隐患"],
     ["老房子墙体出现多条裂缝", "外墙瓷砖掉下来砸到车", "房屋地基下沉"],
     ["担心房子倒塌", "行人经过很危险", "需要专业鉴定"]),
    ("DSP-WAGE", ["拖欠工资", "工地欠薪", "公司拖欠劳务费"],
     ["工地老板拖欠农民工工资三个月", "公司倒闭后拖欠员工工资", "装修队拖欠工人劳务费"],
     ["工人生活困难", "快过年了要回家", "多次讨要无果"]),
    ("DSP-CONTRACT", ["劳动合同纠纷", "工伤赔偿纠纷", "辞退补偿纠纷"],
     ["公司不签劳动合同也不交社保", "工人在工地受伤老板不赔", "公司无故辞退不给补偿"],
     ["要求依法维权", "希望劳动部门介入"]),
    ("SVC-ELDERLY-ALONE", ["独居老人需要照料", "空巢老人无人照顾", "老人走失"],
     ["独居老人最近几天没出门", "空巢老人腿脚不便买菜困难", "患阿尔茨海默病的老人走失"],
     ["邻居担心老人安全", "希望社区上门看看", "家属非常着急"]),
    ("SVC-MINIMUM-LIVING", ["低保申请咨询", "困难家庭求助", "残疾人补贴咨询"],
     ["家里有重病患者生活困难", "想了解低保申请需要什么材料", "残疾证办理后补贴没有到账"],
     ["希望得到帮助", "请社区告知办理流程"]),
    ("URB-PARKING", ["停车纠纷", "乱停车堵路", "小区停车位被占"],
     ["外来车辆占用小区固定车位", "车辆乱停堵住小区出入口", "共享单车堆满人行道"],
     ["业主车没地方停", "救护车进不来", "出行很不方便"]),
    ("PUB-SPECIAL-GROUP", ["流浪犬伤人", "流浪猫扰民", "饲养家禽"],
     ["小区里流浪犬追咬行人", "流浪猫夜里叫声很大", "居民在楼下空地饲养鸡鸭"],
     ["小孩被吓哭", "卫生很差", "担心传播疾病"]),
    ("URB-ROAD", ["树木倒伏", "绿化带毁坏", "树枝遮挡窗户"],
     ["台风过后大树倒在路中间", "绿化带被人毁掉种菜", "树枝伸到窗户影响采光"],
     ["道路被堵", "破坏环境", "家里白天也要开灯"]),
]
WHEN = ["昨晚", "今天早上", "连续三天", "近一周", "这个月以来", "每天早上六点", "周末", "半夜十二点", "下午四点左右",
        "已经持续半个多月"]
ASKS = ["请相关部门尽快处理", "希望社区协调解决", "要求上门查看", "请尽快派人来", "希望给个说法", "请督促整改",
        "多次反映一直没有解决", "请网格员帮忙反映"]
COMMENTS = ["已电话联系反映人了解情况", "网格员已上门核实，情况属实", "已协调物业公司处理", "业主电话无人接听，明天再联系",
            "已现场劝导当事人", "已下达整改通知书", "已督促整改，限期三天", "处置完毕，已电话回访，反映人满意",
            "当事人不在家，已留言", "已联系城管中队到场", "涉及多个部门，建议联合处置", "已拍照取证",
            "双方已达成调解协议", "已转交街道处理", "施工单位承诺晚上十点后停工", "已安排维修人员明天上午到场"]
RESULTS = ["已处理完毕", "已整改到位", "经调解双方和解", "已维修完成", "已清理干净", "已责令停止", "已拆除违建"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
# Some kinds are far more common than others (neighbour disputes, street vendors …): a mild Zipf.
KIND_WEIGHTS = [1 / (rank + 1) ** 0.8 for rank in range(len(KINDS))]


@dataclass
class SyntheticCase:
    kind: str  # category code
    title: str
    description: str
    address: str
    comments: list[str]
    result: str


class Corpus:
    def __init__(self, seed: int = 2026):
        self.rng = random.Random(seed)

    def case(self, *, handled: bool) -> SyntheticCase:
        rng = self.rng
        code, titles, seen, caused = rng.choices(KINDS, KIND_WEIGHTS)[0]
        street, compound, place = rng.choice(STREETS), rng.choice(COMPOUNDS), rng.choice(PLACES)
        building = f"{rng.randint(1, 30)}幢{rng.randint(1, 6)}单元"
        pick = rng.randrange(len(titles))
        title = titles[pick]
        if rng.random() < 0.4:
            title = f"{compound}{title}"
        # What was seen mostly matches the title; now and then the caller tells of something else too.
        parts = [f"{rng.choice(WHEN)}{street}{compound}{building}{place}{seen[pick % len(seen)]}",
                 rng.choice(caused)]
        if rng.random() < 0.6:
            parts.append(f"{rng.choice(SURNAMES)}先生反映{rng.choice(seen)}")
        if rng.random() < 0.5:
            parts.append(rng.choice(caused))
        parts.append(rng.choice(ASKS))
        comments = [rng.choice(COMMENTS) for _ in range(rng.choice((0, 0, 1, 1, 2, 3)))]
        result = rng.choice(RESULTS)  # drawn either way: the same seed gives the same cases
        return SyntheticCase(kind=code, title=title, description="，".join(parts) + "。",
                             address=f"{street}{rng.randint(1, 400)}号{compound}", comments=comments,
                             result=result if handled else "")
