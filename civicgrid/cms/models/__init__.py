"""Community home sites: the Wagtail pages residents read, the sites they live on, and
what residents leave behind (confirmed phones, reports, votes)."""

from .images import SiteImage, SiteRendition  # noqa: F401
from .pages import (  # noqa: F401
    ArticleIndexPage,
    ArticlePage,
    ConsultationIndexPage,
    ConsultationOption,
    ConsultationPage,
    DisclosureIndexPage,
    DisclosurePage,
    HomePage,
    ReportPage,
    ServiceGuidePage,
    ServiceIndexPage,
    TrackPage,
)
from .residents import ConsultationVote, PhoneCode, ResidentReport  # noqa: F401
from .sites import CommunitySite  # noqa: F401
