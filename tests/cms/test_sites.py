"""Community sites on their own hosts: made in one step (console or command line), each
host serving its own community's pages only, unknown hosts not found, anonymous pages
cacheable and form pages private."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django_tenants.utils import tenant_context
from wagtail.models import Page, Site

from civicgrid.cms.models import ArticlePage, CommunitySite, ServiceGuidePage
from civicgrid.tenants.models import Domain

from .helpers import resident, site

XINGFU, HEPING = "xingfu.shangcheng.localhost", "heping.shangcheng.localhost"
ROUTES_COVERED = {
    "wagtail_serve": "test_each_host_serves_its_own_communitys_pages_only",
    "captcha-image": "test_the_challenge_picture_is_served_on_community_hosts_only",
    "captcha-image-2x": "test_the_challenge_picture_is_served_on_community_hosts_only",
    "captcha-refresh": "test_the_challenge_picture_is_served_on_community_hosts_only",
}


@pytest.fixture
def sites(world):
    from civicgrid.cms.demo import _fill

    made = site(world.shangcheng, "T01-C01", "xingfu"), site(world.shangcheng, "T01-C02", "heping")
    with tenant_context(world.shangcheng):
        for community_site in made:
            if not ArticlePage.objects.descendant_of(community_site.site.root_page).exists():
                _fill(community_site)
    return made


def run(*args) -> str:
    out = StringIO()
    call_command("cms", *args, stdout=out)
    return out.getvalue()


def test_the_command_makes_a_site_in_one_step_and_lists_hosts(world):
    host = run("create-site", "--tenant", "yuhang", "--community", "T01-C01", "--slug", "xingfu").strip()
    assert host == "xingfu.yuhang.localhost"
    assert run("sites", "--tenant", "330110").split() == ["xingfu.yuhang.localhost"]
    domain = Domain.objects.get(domain=host)
    assert domain.tenant == world.yuhang and domain.serves == Domain.Serves.COMMUNITY_SITE and not domain.is_primary
    with tenant_context(world.yuhang):
        made = CommunitySite.objects.get(slug="xingfu")
        slugs = [page.slug for page in made.site.root_page.get_children()]
        assert slugs == ["notices", "news", "services", "report", "track", "consultations", "organisations"]
        assert made.site.root_page.get_parent().depth == 1 and not Site.objects.filter(is_default_site=True).exists()
    for bad in (["--community", "T01-C01", "--slug", "again"],  # one site per community
                ["--community", "T01-C02", "--slug", "xingfu"],  # host taken
                ["--community", "T01", "--slug", "township"],  # not a community
                ["--community", "T01-C02", "--slug", "Bad_Slug"]):
        with pytest.raises(CommandError):
            run("create-site", "--tenant", "yuhang", *bad)
    with tenant_context(world.yuhang):
        assert CommunitySite.objects.count() == 1 and Page.objects.filter(depth=2).count() == 1


def test_each_host_serves_its_own_communitys_pages_only(world, sites):
    xingfu, heping = sites
    with tenant_context(world.shangcheng):
        notices = xingfu.site.root_page.get_children().get(slug="notices")
        notice = notices.add_child(instance=ArticlePage(title="幸福社区独有的通知", slug="only-xingfu"))
        path = notice.get_url_parts()[2]
    assert path == "/notices/only-xingfu/"
    assert resident(XINGFU).get(path).status_code == 200
    assert resident(HEPING).get(path).status_code == 404
    home = resident(XINGFU).get("/").content.decode()
    assert "幸福社区" in home and "和平社区" not in home
    assert "和平社区" in resident(HEPING).get("/").content.decode()
    assert resident("nope.shangcheng.localhost").get("/").status_code == 404  # unknown community host
    assert resident("xingfu.pingyang.localhost").get("/").status_code == 404  # another county's name
    assert resident("shangcheng.localhost").get(path).status_code == 404  # the console host serves no pages


def test_site_root_paths_are_cached_per_tenant(world, sites):
    """Wagtail caches every site's root path under one key; with the schema in the key,
    two counties' sites (same prefix, same tree) never see each other's."""
    run("create-site", "--tenant", "yuhang", "--community", "T01-C01", "--slug", "xingfu")
    for _ in range(2):  # the second round is served from the cache
        assert "余杭" not in resident(XINGFU).get("/").content.decode()
        yuhang_home = resident("xingfu.yuhang.localhost").get("/")
        assert yuhang_home.status_code == 200
        with tenant_context(world.yuhang):
            assert Site.objects.get(hostname="xingfu.yuhang.localhost").root_page.title in yuhang_home.content.decode()
        with tenant_context(world.shangcheng):
            notice = ArticlePage.objects.descendant_of(sites[0].site.root_page).live().first()
        assert resident("xingfu.yuhang.localhost").get(notice.get_url_parts()[2]).status_code == 404


def test_anonymous_pages_are_cacheable_and_form_pages_private(world, sites):
    for path in ("/", "/notices/", "/services/", "/services/?q=居住证"):
        response = resident(XINGFU).get(path)
        assert response.status_code == 200 and "public" in response["Cache-Control"], path
    for path in ("/track/", "/phone/"):
        response = resident(XINGFU).get(path)
        assert "public" not in response.get("Cache-Control", "") and (
            "private" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]), path


def test_service_guides_are_found_by_chinese_words(world, sites):
    with tenant_context(world.shangcheng):
        guides = ServiceGuidePage.objects.descendant_of(sites[0].site.root_page)
        assert guides.count() == 4
    found = resident(XINGFU).get("/services/?q=居住证").content.decode()
    assert "办理居住证" in found and "残疾人证申领" not in found
    materials = resident(XINGFU).get("/services/?q=诊断证明").content.decode()  # a word inside a checklist
    assert "残疾人证申领" in materials and "办理居住证" not in materials
    nothing = resident(XINGFU).get("/services/?q=护照").content.decode()
    assert "办理居住证" not in nothing and "残疾人证申领" not in nothing


def test_the_challenge_picture_is_served_on_community_hosts_only(world, sites):
    import re

    page = resident(XINGFU).get("/phone/").content.decode()
    key = re.search(r'name="challenge_0" value="([0-9a-f]+)"', page).group(1)
    picture = resident(XINGFU).get(f"/captcha/image/{key}/")
    assert picture.status_code == 200 and picture["Content-Type"] == "image/png"
    assert resident(XINGFU).get(f"/captcha/image/{key}@2/").status_code == 200
    assert resident(XINGFU).get("/captcha/refresh/", HTTP_X_REQUESTED_WITH="XMLHttpRequest").status_code == 200
    assert resident("shangcheng.localhost").get(f"/captcha/image/{key}/").status_code == 404
    assert connection.schema_name in ("public", "shangcheng")
