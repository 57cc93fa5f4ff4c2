"""A community's own host (``xingfu.shangcheng.localhost``): its Wagtail site and the
residents' forms. Nothing of the console or the API answers here."""

from django.urls import include, path
from wagtail import urls as wagtail_urls
from wagtail.documents import urls as wagtaildocs_urls

from civicgrid.cms import views as cms_views

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("phone/", cms_views.phone, name="cms-phone"),
    path("captcha/", include("captcha.urls")),
    path("cms-media/<path:name>", cms_views.media, name="cms-media"),
    path("documents/", include(wagtaildocs_urls)),
    path("", include(wagtail_urls)),
]
handler404 = "civicgrid.cms.views.not_found"
