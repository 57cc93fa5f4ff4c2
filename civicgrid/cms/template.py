"""The page tree every new community site starts from: a home page and one page of
each kind below it, with the slugs residents' links rely on (``/report/``, ``/track/``)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from .models import (
    ArticleIndexPage,
    ConsultationIndexPage,
    DisclosureIndexPage,
    HomePage,
    ReportPage,
    ServiceIndexPage,
    TrackPage,
)


def site_tree(community_name: str, slug: str) -> tuple[HomePage, list]:
    home = HomePage(title=community_name, slug=slug, seo_title=_("%(name)s resident site") % {"name": community_name},
                    intro=_("<p>Notices, services and help from %(name)s.</p>") % {"name": community_name})
    children = [
        ArticleIndexPage(title=_("Notices"), slug="notices", kind=ArticleIndexPage.Kind.NOTICE),
        ArticleIndexPage(title=_("News"), slug="news", kind=ArticleIndexPage.Kind.NEWS),
        ServiceIndexPage(title=_("Service guide"), slug="services"),
        ReportPage(title=_("Report a problem"), slug="report",
                   intro=_("<p>Tell us what is wrong and where; we pass it to whoever handles it.</p>")),
        TrackPage(title=_("Track my report"), slug="track"),
        ConsultationIndexPage(title=_("Consultations"), slug="consultations"),
        DisclosureIndexPage(title=_("Social organisations"), slug="organisations"),
    ]
    return home, children
