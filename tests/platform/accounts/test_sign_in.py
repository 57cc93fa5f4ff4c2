"""Sign-in as a 等保 level-3 review expects: lockout, a second factor that cannot be
skipped, password rules, an idle timeout. Through the real pages and middleware."""

from __future__ import annotations

import re
import time
from base64 import b32decode, b64encode

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from civicgrid.platform.audit.models import AuditEntry
from tests.two_factor import next_code
from tests.world import PASSWORD

SHANGCHENG = "shangcheng.localhost"
PROVINCE = "localhost"


def password_step(username: str, *, host: str = SHANGCHENG, password: str = PASSWORD, next_url: str = "/") -> tuple[Client, object]:
    client = Client(HTTP_HOST=host)
    answer = client.post("/accounts/login/", {"username": username, "password": password, "next": next_url})
    return client, answer


def code_from_enrol_page(html: str) -> str:
    key = re.search(r'data-totp-key="([A-Z2-7]+)"', html).group(1)
    return f"{totp(b32decode(key + '=' * (-len(key) % 8))):06d}"


def test_five_wrong_passwords_lock_the_account_and_the_right_one_no_longer_opens_it(world):
    for _ in range(5):
        _, answer = password_step("shangcheng_gridworker", password="wrong password")
    _, answer = password_step("shangcheng_gridworker")
    assert answer.status_code == 429
    assert "登录已被锁定" in answer.content.decode()
    assert "_auth_user_id" not in Client().session.keys()
    assert AccessAttempt.objects.filter(username="shangcheng_gridworker", failures_since_start__gte=5).exists()


def test_a_success_before_the_limit_clears_the_count(world):
    for _ in range(4):
        password_step("shangcheng_gridworker", password="wrong password")
    client, answer = password_step("shangcheng_gridworker")
    assert answer.status_code == 302
    assert not AccessAttempt.objects.filter(username="shangcheng_gridworker").exists()
    assert client.get("/cases/").status_code == 200


def test_a_grid_worker_needs_no_second_factor(world):
    client, answer = password_step("shangcheng_gridworker", next_url="/cases/")
    assert answer["Location"] == "/cases/"
    assert client.get("/cases/").status_code == 200


def test_signing_out_from_the_console_goes_back_to_the_sign_in_page_and_ends_the_session(world):
    client, _ = password_step("shangcheng_gridworker")
    assert client.get("/api/v1/me/").status_code == 200
    answer = client.post("/accounts/logout/")  # the console's button: no next page
    assert answer.status_code == 302 and answer["Location"] == "/accounts/login/"
    assert client.get("/api/v1/me/").status_code in (401, 403)


def test_a_county_admin_without_an_authenticator_must_enrol_before_anything_else(world):
    TOTPDevice.objects.filter(user__username="shangcheng_admin").delete()
    client, answer = password_step("shangcheng_admin", next_url="/cases/")
    assert client.get("/cases/")["Location"].startswith("/accounts/two-factor/enrol/?next=%2Fcases%2F")
    # Typing an address does not get round it: pages redirect, the API refuses in its format.
    for path in ("/", "/registry/", "/plugins/", "/cms/sites/"):
        assert client.get(path).status_code == 302, path
    api = client.get("/api/v1/cases/")
    assert api.status_code == 403 and "second factor" in api.json()["detail"].lower() or "第二" in api.json()["detail"]
    assert client.post("/api/v1/cases/", {}).status_code == 403

    page = client.get("/accounts/two-factor/enrol/?next=/cases/")
    html = page.content.decode()
    assert page.status_code == 200 and "<svg" in html and "data-totp-key" in html
    assert client.get("/accounts/two-factor/enrol/").content.decode().count(
        re.search(r'data-totp-key="([A-Z2-7]+)"', html).group(1)) == 1, "a reload shows the same key"
    wrong = client.post("/accounts/two-factor/enrol/", {"code": "000000", "next": "/cases/"})
    assert wrong.status_code == 200 and "代码不对" in wrong.content.decode()
    assert client.get("/cases/").status_code == 302

    time.sleep(1.1)  # a wrong code makes the next try wait a second (django-otp's throttling)
    done = client.post("/accounts/two-factor/enrol/", {"code": code_from_enrol_page(html), "next": "/cases/"})
    codes = re.findall(r"<li><code>([a-z0-9]+)</code></li>", done.content.decode())
    assert len(codes) == 10
    assert client.get("/cases/").status_code == 200
    assert TOTPDevice.objects.get(user__username="shangcheng_admin").confirmed
    assert AuditEntry.objects.filter(action="account.second_factor_enrolled").exists()


def test_an_enrolled_admin_gives_a_code_at_every_sign_in_and_a_recovery_code_works_once(world):
    client, answer = password_step("shangcheng_admin", next_url="/registry/")
    assert answer["Location"] == "/registry/"
    assert client.get("/registry/")["Location"].startswith("/accounts/two-factor/?next=")
    assert client.get("/accounts/two-factor/enrol/")["Location"].startswith("/accounts/two-factor/"), \
        "a second phone cannot be enrolled with the password alone"
    wrong = client.post("/accounts/two-factor/", {"code": "123456", "next": "/registry/"})
    assert wrong.status_code == 200 and client.get("/registry/").status_code == 302
    assert client.post("/accounts/two-factor/", {"code": next_code("shangcheng_admin")}).status_code == 200, \
        "even the right code waits out the throttle after a wrong one"
    time.sleep(1.1)
    right = client.post("/accounts/two-factor/", {"code": next_code("shangcheng_admin"), "next": "/registry/"})
    assert right["Location"] == "/registry/"
    assert client.get("/registry/").status_code == 200

    # A recovery code, made at enrolment, signs in once.
    from civicgrid.platform.accounts.models import User
    from civicgrid.platform.accounts.second_factor import new_recovery_codes
    code = new_recovery_codes(User.objects.get(username="shangcheng_admin"))[0]
    again, _ = password_step("shangcheng_admin")
    assert again.post("/accounts/two-factor/", {"code": code})["Location"] == "/"
    assert again.get("/registry/").status_code == 200
    third, _ = password_step("shangcheng_admin")
    assert third.post("/accounts/two-factor/", {"code": code}).status_code == 200
    assert not StaticToken.objects.filter(token=code).exists()


def test_the_next_address_cannot_leave_the_site(world):
    client, _ = password_step("shangcheng_admin")
    answer = client.post("/accounts/two-factor/", {"code": next_code("shangcheng_admin"),
                                                   "next": "https://evil.example/"})
    assert answer["Location"] == "/"


def test_a_provincial_admin_needs_a_second_factor_on_the_province_site(world):
    client, _ = password_step("prov_admin", host=PROVINCE, next_url="/province/")
    assert client.get("/province/")["Location"].startswith("/accounts/two-factor/")
    client.post("/accounts/two-factor/", {"code": next_code("prov_admin")})
    assert client.get("/province/").status_code == 200


def test_a_session_idle_for_thirty_minutes_ends(world):
    client, _ = password_step("shangcheng_gridworker")
    assert client.get("/cases/").status_code == 200
    session = client.session
    session["last_seen"] = int(time.time()) - 31 * 60
    session.save()
    answer = client.get("/cases/")
    assert answer.status_code == 302 and answer["Location"].startswith("/accounts/login/")
    assert client.get("/cases/").status_code == 302, "signed out, not only redirected once"


def test_password_rules_refuse_a_simple_password_in_chinese(world):
    client, _ = password_step("shangcheng_gridworker")
    answer = client.post("/accounts/password/", {"old_password": PASSWORD, "new_password1": "abcdefghijk",
                                                 "new_password2": "abcdefghijk"})
    assert answer.status_code == 200
    assert "至少使用" in answer.content.decode()
    good = client.post("/accounts/password/", {"old_password": PASSWORD, "new_password1": "Grid-Worker-2026",
                                               "new_password2": "Grid-Worker-2026"})
    assert good.status_code == 302


@pytest.mark.parametrize(("username", "allowed"), [("shangcheng_operator", False), ("shangcheng_gridworker", True)])
def test_basic_auth_is_refused_to_accounts_that_need_a_second_factor(world, username, allowed):
    token = b64encode(f"{username}:{PASSWORD}".encode()).decode()
    answer = Client(HTTP_HOST=SHANGCHENG, HTTP_AUTHORIZATION=f"Basic {token}").get("/api/v1/cases/")
    assert (answer.status_code == 200) is allowed, answer.content


def test_reset_removes_the_devices_and_is_audited(world):
    call_command("second_factor", "reset", "shangcheng_admin", stdout=open("/dev/null", "w"))
    assert not TOTPDevice.objects.filter(user__username="shangcheng_admin").exists()
    assert AuditEntry.objects.filter(action="account.second_factor_reset").exists()
    client, _ = password_step("shangcheng_admin")
    assert client.get("/")["Location"].startswith("/accounts/two-factor/enrol/")


def test_an_address_that_tries_too_often_is_slowed_down_whoever_it_tries(world, settings):
    from civicgrid.platform.accounts import views

    settings.RATELIMIT_ENABLE = True
    original, views.SIGN_IN_RATE = views.SIGN_IN_RATE, "3/10m"
    try:
        client = Client(HTTP_HOST=SHANGCHENG, REMOTE_ADDR="10.9.8.7")
        answers = [client.post("/accounts/login/", {"username": f"nobody{i}", "password": "x"}).status_code
                   for i in range(4)]
        assert answers == [200, 200, 200, 429]
        refused = client.post("/accounts/login/", {"username": "shangcheng_gridworker", "password": PASSWORD})
        assert refused.status_code == 429 and "尝试次数过多" in refused.content.decode()
        assert Client(HTTP_HOST=SHANGCHENG, REMOTE_ADDR="10.9.8.8").post(
            "/accounts/login/", {"username": "shangcheng_gridworker", "password": PASSWORD}).status_code == 302
    finally:
        views.SIGN_IN_RATE = original


ROUTES_COVERED = {
    "two-factor-verify": "test_account_pages_are_for_members_of_this_site_only",
    "two-factor-enrol": "test_account_pages_are_for_members_of_this_site_only",
    "password-change": "test_account_pages_are_for_members_of_this_site_only",
    "password-changed": "test_account_pages_are_for_members_of_this_site_only",
}


def test_account_pages_are_for_members_of_this_site_only(world):
    paths = ("/accounts/two-factor/", "/accounts/two-factor/enrol/", "/accounts/password/", "/accounts/password/done/")
    anonymous = Client(HTTP_HOST=SHANGCHENG)
    for path in paths:
        assert anonymous.get(path).status_code == 302, path
    outsider = Client(HTTP_HOST="yuhang.localhost")
    outsider.force_login(world.user("yuhang_operator"))
    for path in paths:
        assert outsider.get(path, HTTP_HOST=SHANGCHENG).status_code == 404, path
    before = TOTPDevice.objects.filter(user__username="yuhang_operator").count()
    outsider.post("/accounts/two-factor/enrol/", {"code": "123456"}, HTTP_HOST=SHANGCHENG)
    assert TOTPDevice.objects.filter(user__username="yuhang_operator").count() == before
