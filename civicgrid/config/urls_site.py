"""A community's own host (``xingfu.shangcheng.localhost``): its Wagtail site and the
residents' forms. Nothing of the console or the API answers here, and none of Wagtail's
sign-in or password pages: residents never sign in."""

from captcha import views as captcha_views
from django.urls import include, path, re_path
from wagtail import views as wagtail_views
from wagtail.documents.views.serve import serve as serve_document

from civicgrid.cms import views as cms_views

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("phone/", cms_views.phone, name="cms-phone"),
    # The challenge's picture (its audio needs a speech engine the platform does not ship).
    re_path(r"^captcha/image/(?P<key>\w+)/$", captcha_views.captcha_image, name="captcha-image", kwargs={"scale": 1}),
    re_path(r"^captcha/image/(?P<key>\w+)@2/$", captcha_views.captcha_image, name="captcha-image-2x",
            kwargs={"scale": 2}),
    re_path(r"^captcha/refresh/$", captcha_views.captcha_refresh, name="captcha-refresh"),
    path("cms-media/<path:name>", cms_views.media, name="cms-media"),
    re_path(r"^documents/(\d+)/(.*)$", serve_document, name="wagtaildocs_serve"),
    re_path(r"^((?:[\w\-]+/)*)$", wagtail_views.serve, name="wagtail_serve"),
]

handler404 = "civicgrid.cms.views.not_found"
