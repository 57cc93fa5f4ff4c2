"""The demo's two community sites in 上城区 (幸福社区, 和平社区), with content a resident
would find there, made through the same actions and Wagtail's page API an editor uses."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from wagtail.rich_text import RichText

from civicgrid.cms import actions
from civicgrid.cms.models import (
    ArticleIndexPage,
    ArticlePage,
    CommunitySite,
    ConsultationIndexPage,
    ConsultationOption,
    ConsultationPage,
    DisclosureIndexPage,
    DisclosurePage,
    ServiceGuidePage,
    ServiceIndexPage,
)

# (community code, host prefix)
DEMO_SITES = [("T01-C01", "xingfu"), ("T01-C02", "heping")]

SERVICES = [
    ("申请最低生活保障", "户籍在本社区、家庭人均收入低于当地低保标准的居民家庭。",
     ["户口簿", "居民身份证", "家庭收入情况声明", "银行存折或社保卡"],
     ["到社区服务站提交申请", "社区入户调查并公示7天", "街道审核", "民政局审批后按月发放"],
     "20个工作日", "免费", "街道社会事务办", "社区党群服务中心一楼", "工作日 8:30-17:00",
     [("没有户口簿可以申请吗？", "户籍不在本社区的，请到户籍所在地申请。")]),
    ("办理居住证", "在本市居住半年以上，有合法稳定就业、住所或连续就读之一的非本市户籍人员。",
     ["居民身份证", "租房合同或房产证明", "近期一寸照片"],
     ["社区登记居住信息", "派出所受理", "领取居住证"], "15个工作日", "免费", "公安分局", "辖区派出所户籍窗口",
     "工作日 9:00-17:00", [("居住证每年都要签注吗？", "是的，有效期内每年签注一次。")]),
    ("老年人优待证", "年满60周岁的本市户籍老年人。", ["居民身份证", "户口簿", "近期一寸照片"],
     ["社区服务站申请", "当场审核", "街道制证后通知领取"], "10个工作日", "免费", "街道社会事务办",
     "社区党群服务中心一楼", "工作日 8:30-17:00", []),
    ("残疾人证申领", "有视力、听力、言语、肢体、智力、精神残疾的本市户籍居民。",
     ["居民身份证", "户口簿", "近期二寸照片", "医院诊断证明"],
     ["社区申请", "指定医院评定", "区残联审核发证"], "30个工作日", "免费", "区残疾人联合会", "区残联服务大厅",
     "工作日 9:00-17:00", []),
]
NOTICES = [
    ("关于小区二次供水设施清洗的通知", "本周六上午8:00至12:00停水，请居民提前储水。"),
    ("社区开展电动自行车安全充电宣传", "严禁电动自行车进楼入户充电，集中充电点位于5幢北侧。"),
    ("垃圾分类定时定点投放时间调整", "自下月起，投放时间为早7:00-9:00，晚18:00-20:00。"),
]


def _rich(text: str) -> str:
    return f"<p>{text}</p>"


def seed_demo_sites(*, editor_password_hash: str = "", tenant_schema: str = "") -> list[CommunitySite]:
    """Idempotent: sites that exist are left as they are."""
    made = []
    for code, slug in DEMO_SITES:
        site = CommunitySite.objects.filter(slug=slug).first()
        if site is None:
            site = actions.create_site(community_code=code, slug=slug, acting_staff=None)
            _fill(site)
        made.append(site)
    if editor_password_hash and tenant_schema:
        from civicgrid.platform.accounts.models import User

        username = f"{tenant_schema}_editor"
        if not User.objects.filter(username=username).exists():
            actions.add_editor(site=made[0], username=username, full_name="幸福社区网站编辑",
                               password_hash=editor_password_hash)
    actions.sync_site_groups()
    return made


def _fill(site: CommunitySite) -> None:
    home = site.site.root_page.specific
    home.address, home.phone, home.hours = f"{site.community.name}党群服务中心", "0571-8888 0000", "工作日 8:30-17:00"
    home.save()
    notices = ArticleIndexPage.objects.child_of(home).get(slug="notices")
    for days, (title, text) in enumerate(NOTICES):
        notices.add_child(instance=ArticlePage(
            title=title, summary=text, date=timezone.localdate() - timedelta(days=days),
            body=[("paragraph", RichText(_rich(text)))]))
    services = ServiceIndexPage.objects.child_of(home).get()
    for title, who, materials, steps, limit, fee, department, place, hours, faq in SERVICES:
        services.add_child(instance=ServiceGuidePage(
            title=title, eligibility=who, time_limit=limit, fee=fee, department=department, place=place, hours=hours,
            materials=[("material", {"name": name, "form": "original", "copies": 1, "note": ""}) for name in materials],
            steps=[("step", step) for step in steps],
            faq=[("qa", {"question": q, "answer": a}) for q, a in faq]))
    consultations = ConsultationIndexPage.objects.child_of(home).get()
    question = ConsultationPage(title="小区是否增设电动自行车充电车棚？", closes_at=timezone.now() + timedelta(days=14),
                                description=_rich("拟在5幢北侧空地增设充电车棚一处，请居民投票。"))
    question.options = [ConsultationOption(label="同意"), ConsultationOption(label="不同意"),
                        ConsultationOption(label="换个位置")]
    consultations.add_child(instance=question)
    organisations = DisclosureIndexPage.objects.child_of(home).get()
    organisations.add_child(instance=DisclosurePage(
        title=f"{site.community.name}志愿者协会 年度公开", organisation=f"{site.community.name}志愿者协会",
        period=str(timezone.localdate().year - 1),
        body=[("paragraph", RichText(_rich("全年开展助老、环境整治等志愿服务42次，收支情况见附件。")))]))
