"""The page types of a community site. A new site gets one of each index from the
template (``cms.template``); editors add notices, news, service guides, consultations
and disclosures under them."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey
from wagtail import blocks
from wagtail.admin.panels import FieldPanel, InlinePanel, MultiFieldPanel
from wagtail.documents.blocks import DocumentChooserBlock
from wagtail.fields import RichTextField, StreamField
from wagtail.images.blocks import ImageChooserBlock
from wagtail.models import Orderable, Page
from wagtail.search import index

from civicgrid.cms.sanitise import refuse_unsafe_markup
from civicgrid.cms.words import index_text

# Anonymous readers of content pages may be served from a cache for this long.
ANONYMOUS_MAX_AGE = 60


class SafeRichTextBlock(blocks.RichTextBlock):
    def clean(self, value):
        value = super().clean(value)
        refuse_unsafe_markup(value.source)
        return value


BODY_BLOCKS = [
    ("paragraph", SafeRichTextBlock(label=_("Text"))),
    ("image", ImageChooserBlock(label=_("Image"))),
    ("document", DocumentChooserBlock(label=_("Attachment"))),
]


class SitePage(Page):
    """What every page of a community site shares: caching headers and the site's home."""

    class Meta:
        abstract = True

    # Pages with forms answer each resident privately (a CSRF token, their own state).
    has_forms = False

    def full_clean(self, *args, **kwargs):
        """Rich text is checked on every save, whatever road it came by (the admin's
        blocks check it too, with the message beside the field)."""
        for field in self._meta.concrete_fields:
            try:
                if isinstance(field, RichTextField):
                    refuse_unsafe_markup(getattr(self, field.attname))
                elif isinstance(field, StreamField):
                    for block in getattr(self, field.attname):
                        if isinstance(block.block, blocks.RichTextBlock):
                            refuse_unsafe_markup(block.value.source)
            except ValidationError as exc:
                raise ValidationError({field.name: exc.messages}) from exc
        super().full_clean(*args, **kwargs)

    def serve(self, request, *args, **kwargs):
        response = super().serve(request, *args, **kwargs)
        return cache_headers(request, response, private=self.has_forms)

    def home(self) -> HomePage | None:
        return HomePage.objects.ancestor_of(self, inclusive=True).live().first()

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        home = self.home()
        context["home"] = home
        context["sections"] = home.get_children().live() if home else []
        return context


def cache_headers(request, response, *, private: bool):
    if private or request.method != "GET" or request.user.is_authenticated:
        patch_cache_control(response, private=True, no_store=True)
    else:
        patch_cache_control(response, public=True, max_age=ANONYMOUS_MAX_AGE)
        patch_vary_headers(response, ["Accept-Language", "Cookie"])
    return response


class HomePage(SitePage):
    intro = RichTextField(_("introduction"), blank=True)
    address = models.CharField(_("office address"), max_length=200, blank=True)
    phone = models.CharField(_("office phone"), max_length=40, blank=True)
    hours = models.CharField(_("office hours"), max_length=100, blank=True)

    content_panels = Page.content_panels + [
        FieldPanel("intro"),
        MultiFieldPanel([FieldPanel("address"), FieldPanel("phone"), FieldPanel("hours")], heading=_("Contact")),
    ]
    parent_page_types = ["wagtailcore.Page"]
    subpage_types = ["cms.ArticleIndexPage", "cms.ServiceIndexPage", "cms.ReportPage", "cms.TrackPage",
                     "cms.ConsultationIndexPage", "cms.DisclosureIndexPage"]

    class Meta:
        verbose_name = _("community home page")

    def get_context(self, request, *args, **kwargs):
        from civicgrid.cms.selectors import home_context

        context = super().get_context(request, *args, **kwargs)
        context.update(home_context(self))
        return context


class ArticleIndexPage(SitePage):
    class Kind(models.TextChoices):
        NOTICE = "notice", _("Notices")
        NEWS = "news", _("News")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.NOTICE)
    content_panels = Page.content_panels + [FieldPanel("kind")]
    parent_page_types = ["cms.HomePage"]
    subpage_types = ["cms.ArticlePage"]

    class Meta:
        verbose_name = _("notices or news")

    def get_context(self, request, *args, **kwargs):
        from civicgrid.cms.selectors import paginated

        context = super().get_context(request, *args, **kwargs)
        articles = ArticlePage.objects.child_of(self).live().order_by("-date", "-first_published_at")
        context["articles"] = paginated(request, articles)
        return context


class ArticlePage(SitePage):
    date = models.DateField(_("date"), default=timezone.localdate)
    summary = models.CharField(_("summary"), max_length=300, blank=True)
    body = StreamField(BODY_BLOCKS, verbose_name=_("body"), blank=True)

    content_panels = Page.content_panels + [FieldPanel("date"), FieldPanel("summary"), FieldPanel("body")]
    search_fields = Page.search_fields + [index.SearchField("search_text")]
    parent_page_types = ["cms.ArticleIndexPage"]
    subpage_types: list[str] = []

    class Meta:
        verbose_name = _("notice or news item")

    def search_text(self) -> str:
        texts = [self.title, self.summary] + [str(b.value.source) for b in self.body if b.block_type == "paragraph"]
        return index_text(*texts)


class ServiceIndexPage(SitePage):
    intro = RichTextField(_("introduction"), blank=True)
    content_panels = Page.content_panels + [FieldPanel("intro")]
    parent_page_types = ["cms.HomePage"]
    subpage_types = ["cms.ServiceGuidePage"]

    class Meta:
        verbose_name = _("service guide index")

    def get_context(self, request, *args, **kwargs):
        from civicgrid.cms.selectors import search_services

        context = super().get_context(request, *args, **kwargs)
        query = request.GET.get("q", "").strip()[:100]
        context["query"] = query
        context["services"] = search_services(self, query)
        return context


MATERIAL_BLOCK = blocks.StructBlock([
    ("name", blocks.CharBlock(label=_("Material"))),
    ("form", blocks.ChoiceBlock(choices=[("original", _("Original")), ("copy", _("Copy")),
                                         ("both", _("Original and copy"))], default="original", label=_("Form"))),
    ("copies", blocks.IntegerBlock(default=1, min_value=1, label=_("Copies"))),
    ("note", blocks.CharBlock(required=False, label=_("Note"))),
], label=_("Material"))
FAQ_BLOCK = blocks.StructBlock([
    ("question", blocks.CharBlock(label=_("Question"))),
    ("answer", blocks.TextBlock(label=_("Answer"))),
], label=_("Question and answer"))


class ServiceGuidePage(SitePage):
    """办事指南: one service a resident may apply for, and everything to bring."""

    eligibility = models.TextField(_("who may apply"), blank=True)
    materials = StreamField([("material", MATERIAL_BLOCK)], verbose_name=_("required materials"), blank=True)
    steps = StreamField([("step", blocks.CharBlock(label=_("Step")))], verbose_name=_("steps"), blank=True)
    time_limit = models.CharField(_("time limit"), max_length=100, blank=True)
    fee = models.CharField(_("fee"), max_length=100, blank=True, default="免费")
    department = models.CharField(_("department"), max_length=100, blank=True)
    place = models.CharField(_("place"), max_length=200, blank=True)
    hours = models.CharField(_("hours"), max_length=100, blank=True)
    faq = StreamField([("qa", FAQ_BLOCK)], verbose_name=_("FAQ"), blank=True)

    content_panels = Page.content_panels + [
        FieldPanel("eligibility"), FieldPanel("materials"), FieldPanel("steps"),
        MultiFieldPanel([FieldPanel("time_limit"), FieldPanel("fee"), FieldPanel("department"),
                         FieldPanel("place"), FieldPanel("hours")], heading=_("Where and when")),
        FieldPanel("faq"),
    ]
    search_fields = Page.search_fields + [index.SearchField("search_text")]
    parent_page_types = ["cms.ServiceIndexPage"]
    subpage_types: list[str] = []

    class Meta:
        verbose_name = _("service guide")

    def search_text(self) -> str:
        texts = [self.title, self.eligibility, self.department, self.place]
        texts += [block.value["name"] for block in self.materials]
        texts += [block.value for block in self.steps]
        texts += [f"{block.value['question']} {block.value['answer']}" for block in self.faq]
        return index_text(*texts)

    def serve(self, request, *args, **kwargs):
        from civicgrid.cms.selectors import count_service_use

        if request.method == "GET":
            count_service_use(self)
        return super().serve(request, *args, **kwargs)


class ResidentFormPage(SitePage):
    """A page of the site's tree whose body is one of ``cms.views``' forms (``view``), under
    an introduction editors may change. Its slug is what residents' links rely on."""

    intro = RichTextField(_("introduction"), blank=True)
    content_panels = Page.content_panels + [FieldPanel("intro")]
    parent_page_types = ["cms.HomePage"]
    subpage_types: list[str] = []
    has_forms = True
    max_count_per_parent = 1
    view = ""  # the name of the function in cms.views

    class Meta:
        abstract = True

    def serve(self, request, *args, **kwargs):
        from civicgrid.cms import views

        return cache_headers(request, getattr(views, self.view)(request, self), private=True)


class ReportPage(ResidentFormPage):
    """报事: the resident's report form."""

    view = "report"

    class Meta:
        verbose_name = _("report a problem")


class TrackPage(ResidentFormPage):
    """查询: a case followed like a parcel, by tracking number and the phone's last four digits."""

    view = "track"

    class Meta:
        verbose_name = _("track a report")


class ConsultationIndexPage(SitePage):
    parent_page_types = ["cms.HomePage"]
    subpage_types = ["cms.ConsultationPage"]

    class Meta:
        verbose_name = _("consultations")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["consultations"] = ConsultationPage.objects.child_of(self).live().order_by("-closes_at")
        return context


class ConsultationPage(SitePage):
    """阳光议事: a question put to residents, one vote per confirmed phone until it closes."""

    description = RichTextField(_("description"), blank=True)
    closes_at = models.DateTimeField(_("closes at"))

    content_panels = Page.content_panels + [FieldPanel("description"), FieldPanel("closes_at"),
                                            InlinePanel("options", label=_("Options"), min_num=2)]
    parent_page_types = ["cms.ConsultationIndexPage"]
    subpage_types: list[str] = []
    has_forms = True

    class Meta:
        verbose_name = _("consultation")

    @property
    def is_open(self) -> bool:
        return timezone.now() < self.closes_at

    def serve(self, request, *args, **kwargs):
        from civicgrid.cms.views import consultation

        return cache_headers(request, consultation(request, self), private=True)


class ConsultationOption(Orderable):
    page = ParentalKey(ConsultationPage, on_delete=models.CASCADE, related_name="options")
    label = models.CharField(_("option"), max_length=200)
    panels = [FieldPanel("label")]

    def __str__(self):
        return self.label


class DisclosureIndexPage(SitePage):
    intro = RichTextField(_("introduction"), blank=True)
    content_panels = Page.content_panels + [FieldPanel("intro")]
    parent_page_types = ["cms.HomePage"]
    subpage_types = ["cms.DisclosurePage"]

    class Meta:
        verbose_name = _("social organisations")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["disclosures"] = DisclosurePage.objects.child_of(self).live().order_by("title")
        return context


class DisclosurePage(SitePage):
    """A social organisation's public disclosure: who it is, what it did, its accounts."""

    organisation = models.CharField(_("organisation"), max_length=200)
    credit_code = models.CharField(_("unified social credit code"), max_length=18, blank=True)
    period = models.CharField(_("period"), max_length=50, blank=True)
    body = StreamField(BODY_BLOCKS, verbose_name=_("disclosure"), blank=True)

    content_panels = Page.content_panels + [FieldPanel("organisation"), FieldPanel("credit_code"),
                                            FieldPanel("period"), FieldPanel("body")]
    parent_page_types = ["cms.DisclosureIndexPage"]
    subpage_types: list[str] = []

    class Meta:
        verbose_name = _("disclosure")
