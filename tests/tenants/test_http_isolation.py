"""Host → tenant, and who may see what, over HTTP."""

import pytest
from django.test import Client

from civicgrid.tenants.models import OnboardingJob, Tenant
from tests.world import PASSWORD

SHANGCHENG = "shangcheng.localhost"
YUHANG = "yuhang.localhost"
PROVINCE = "localhost"



def signed_in(world, username, host):
    client = Client(HTTP_HOST=host)
    client.force_login(world.user(username))
    return client


def test_unknown_host_is_not_found(world):
    assert Client(HTTP_HOST="nowhere.localhost").get("/").status_code == 404
    assert Client(HTTP_HOST="nowhere.localhost").get("/api/v1/health/").status_code == 404


def test_each_host_serves_its_own_tenant(world):
    assert Client(HTTP_HOST=SHANGCHENG).get("/api/v1/health/").json()["tenant"] == "shangcheng"
    assert Client(HTTP_HOST=YUHANG).get("/api/v1/health/").json()["tenant"] == "yuhang"
    assert Client(HTTP_HOST=PROVINCE).get("/api/v1/health/").json()["tenant"] == "public"


def test_staff_see_their_console_and_not_another_tenants(world):
    client = signed_in(world, "shangcheng_operator", SHANGCHENG)
    page = client.get("/")
    assert page.status_code == 200 and "上城区" in page.content.decode()
    other = Client(HTTP_HOST=YUHANG)
    other.force_login(world.user("shangcheng_operator"))
    assert other.get("/").status_code == 404
    assert other.get("/api/v1/me/").status_code == 404


def test_me_answers_role_and_scope(world):
    body = signed_in(world, "shangcheng_gridworker", SHANGCHENG).get("/api/v1/me/").json()
    assert body["tenant"] == "shangcheng" and body["role"] == "grid_worker" and body["scope"] == "T01-C01-G01"


def test_anonymous_console_goes_to_sign_in(world):
    response = Client(HTTP_HOST=SHANGCHENG).get("/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert Client(HTTP_HOST=SHANGCHENG).get("/api/v1/me/").status_code in (401, 403)


def test_sign_in_only_on_your_own_tenant(world):
    ok = Client(HTTP_HOST=SHANGCHENG).post("/accounts/login/", {"username": "shangcheng_operator", "password": PASSWORD})
    assert ok.status_code == 302
    wrong_site = Client(HTTP_HOST=YUHANG).post("/accounts/login/", {"username": "shangcheng_operator", "password": PASSWORD})
    wrong_password = Client(HTTP_HOST=YUHANG).post("/accounts/login/", {"username": "yuhang_operator", "password": "nope"})
    assert wrong_site.status_code == wrong_password.status_code == 200
    assert wrong_site.context["form"].errors == wrong_password.context["form"].errors
    province_user = Client(HTTP_HOST=SHANGCHENG).post("/accounts/login/", {"username": "prov_admin", "password": PASSWORD})
    assert province_user.status_code == 200


def test_province_users_see_no_tenant_console(world):
    assert signed_in(world, "prov_admin", SHANGCHENG).get("/").status_code == 404


@pytest.mark.parametrize("username, status", [
    ("prov_admin", 200), ("prov_supervisor", 404), ("shangcheng_admin", 404),
])
def test_province_dashboard_is_for_the_provincial_admin(world, username, status):
    assert signed_in(world, username, PROVINCE).get("/province/").status_code == status
    api = signed_in(world, username, PROVINCE).get("/api/v1/tenants/")
    assert api.status_code == status


def test_tenant_api_lists_every_tenant_for_the_admin(world):
    rows = signed_in(world, "prov_admin", PROVINCE).get("/api/v1/tenants/").json()
    assert {r["schema_name"] for r in rows} >= {"hangzhou", "shangcheng", "yuhang"}


def test_onboarding_form_refuses_bad_input_and_creates_nothing(world):
    before = (Tenant.objects.count(), OnboardingJob.objects.count())
    page = signed_in(world, "prov_admin", PROVINCE).post("/province/", {
        "name": "某县", "division_code": "330102", "level": "county", "parent_code": "330100",
        "domain": "shangcheng.localhost", "admin_password": "long-enough-1",
    }, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    text = page.content.decode()
    assert "already onboarded" in text and "already taken" in text
    assert (Tenant.objects.count(), OnboardingJob.objects.count()) == before


def test_onboarding_api_refuses_bad_input(world):
    before = (Tenant.objects.count(), OnboardingJob.objects.count())
    response = signed_in(world, "prov_admin", PROVINCE).post("/api/v1/tenants/", {
        "name": "某县", "division_code": "12", "level": "county", "domain": "x.localhost",
        "admin_password": "long-enough-1"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400 and "division_code" in response.json()
    assert (Tenant.objects.count(), OnboardingJob.objects.count()) == before


def test_suspended_tenant_answers_with_a_notice_and_resumes(world):
    admin = signed_in(world, "prov_admin", PROVINCE)
    assert admin.post("/province/tenants/330110/suspend/").status_code == 302
    assert Client(HTTP_HOST=YUHANG).get("/").status_code == 503
    assert admin.post("/province/tenants/330110/resume/").status_code == 302
    assert Client(HTTP_HOST=YUHANG).get("/").status_code == 302


def test_only_the_provincial_admin_suspends(world):
    response = signed_in(world, "prov_supervisor", PROVINCE).post("/province/tenants/330110/suspend/")
    assert response.status_code == 404
    assert Tenant.objects.get(division_code="330110").status == Tenant.Status.ACTIVE


def test_pages_are_chinese_by_default_and_english_on_request(world):
    page = Client(HTTP_HOST=PROVINCE).get("/")
    assert "登录" in page.content.decode() and "Sign in" not in page.content.decode()
    english = Client(HTTP_HOST=PROVINCE).get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert "Sign in" in english.content.decode()


@pytest.fixture
def queued_job(world):
    from civicgrid.province.onboarding import request_onboarding

    # Inside the test transaction the job is never handed to a worker: it stays queued.
    return request_onboarding(params={
        "name": "临平区", "division_code": "330113", "level": "county", "parent_code": "330100",
        "domain": "linping.localhost", "admin_password": "a-long-password"}, acting_user=world.user("prov_admin"))


@pytest.mark.parametrize("username, status", [
    ("prov_admin", 200), ("prov_supervisor", 404), ("shangcheng_admin", 404),
])
def test_onboarding_job_pages_are_for_the_provincial_admin(world, queued_job, username, status):
    client = signed_in(world, username, PROVINCE)
    for url in (f"/province/onboarding/{queued_job.pk}/", f"/province/onboarding/{queued_job.pk}/progress.json",
                f"/api/v1/onboarding-jobs/{queued_job.pk}/"):
        assert client.get(url).status_code == status, url
    if status == 200:
        state = client.get(f"/province/onboarding/{queued_job.pk}/progress.json").json()
        assert state["status"] == "queued" and state["finished"] is False


def test_province_pages_do_not_exist_on_tenant_hosts(world, queued_job):
    client = signed_in(world, "shangcheng_admin", SHANGCHENG)
    for url in ("/province/", f"/province/onboarding/{queued_job.pk}/", "/api/v1/tenants/",
                f"/api/v1/onboarding-jobs/{queued_job.pk}/", "/province/tenants/330110/suspend/"):
        assert client.get(url).status_code == 404, url
    assert client.post("/province/tenants/330110/suspend/").status_code == 404
    assert Tenant.objects.get(division_code="330110").status == Tenant.Status.ACTIVE


def test_api_schema_is_served_on_every_site(world):
    for host in (PROVINCE, SHANGCHENG):
        response = Client(HTTP_HOST=host).get("/api/schema/")
        assert response.status_code == 200 and b"openapi" in response.content
