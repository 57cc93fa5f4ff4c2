"""Residents on a community site: confirm a phone, report with a photo, follow the case
by tracking number and phone, rate it, vote; and everything a spammer or a guesser tries
refused with nothing stored."""

from __future__ import annotations

import re

import pytest
from django.utils import translation
from django_tenants.utils import tenant_context

from civicgrid.cms.models import ConsultationPage, ConsultationVote, PhoneCode, ResidentReport
from civicgrid.platform.cases import actions
from civicgrid.platform.cases.models import Attachment, Case, Source, Status
from civicgrid.plugins import actions as plugin_actions
from tests.platform.cases.test_workflow import handler, staff
from tests.plugins.test_core import published  # noqa: F401 -- the sample plugins, published

from .helpers import challenge_answer, confirm_phone, jpeg, new_phone, resident, site

XINGFU, HEPING = "xingfu.shangcheng.localhost", "heping.shangcheng.localhost"
IN_XINGFU = {"latitude": "30.245", "longitude": "120.175"}  # inside T01-C01-G01

ROUTES_COVERED = {"cms-phone": "test_a_wrong_code_or_challenge_confirms_nothing_and_guesses_run_out"}


@pytest.fixture
def sites(world):
    return site(world.shangcheng, "T01-C01", "xingfu"), site(world.shangcheng, "T01-C02", "heping")


def report_form(client, **values) -> dict:
    page = client.get("/report/")
    assert page.status_code == 200, page.status_code
    return {"category": "DSP-NEIGHBOUR", "description": "楼上漏水，电话13812345678找我", "address": "幸福社区3幢",
            **challenge_answer(page.content.decode()), **values}


def reported_number(response) -> str:
    assert response.status_code == 200, response.content.decode()[:3000]
    return re.search(r"data-tracking-number>([^<]+)<", response.content.decode()).group(1)


def test_report_track_and_rate_end_to_end(world, sites):
    phone = new_phone()
    client = resident(XINGFU)
    assert client.get("/report/")["Location"] == "/phone/?next=%2Freport%2F"  # confirm the phone first
    confirm_phone(client, phone)
    done = client.post("/report/", report_form(client, photos=[jpeg()], name="王女士", **IN_XINGFU))
    number = reported_number(done)
    html = done.content.decode()
    assert "<svg" in html and f"/track/?code={number}&amp;phone4={phone[-4:]}" in html  # the QR and the link

    with tenant_context(world.shangcheng):
        case = Case.objects.get(number=number)
        assert (case.source, case.status, case.reporter_name, case.grid.code) == (
            Source.RESIDENT_SITE, Status.REPORTED, "王女士", "T01-C01-G01")
        assert Attachment.objects.filter(case=case, kind="image").count() == 1
        assert ResidentReport.objects.get(case=case).site_id == sites[0].site_id

    track = client.get(f"/track/?code={number}&phone4={phone[-4:]}")
    text = track.content.decode()
    assert track.status_code == 200 and 'data-status="reported"' in text
    assert "138****5678" in text and "13812345678" not in text and "王女士" not in text  # masked, no names
    assert track["Cache-Control"].startswith("private") or "no-store" in track["Cache-Control"]

    with tenant_context(world.shangcheng), translation.override("en"):
        operator, jus = staff("shangcheng_operator"), handler("D-JUS")
        actions.accept_case(staff=operator, case_id=case.pk, comment="内部备注：请尽快")
        actions.dispatch_case(staff=operator, case_id=case.pk)
        actions.start_case(staff=jus, case_id=case.pk)
        actions.handle_case(staff=jus, case_id=case.pk, result="已协调楼上住户维修水管。")
    track = client.get(f"/track/?code={number}&phone4={phone[-4:]}")
    text = track.content.decode()
    assert 'data-status="handled"' in text and "已协调楼上住户维修水管" in text and "司法局" in text
    assert "内部备注" not in text and operator.user.username not in text and jus.user.username not in text
    assert 'name="rating"' in text

    rated = client.post("/track/", {"code": number, "phone4": phone[-4:], "rating": 5, "comment": "很及时"})
    assert rated.status_code == 302
    with tenant_context(world.shangcheng):
        assert Case.objects.get(pk=case.pk).rating == 5
    again = client.post("/track/", {"code": number, "phone4": phone[-4:], "rating": 1})
    assert again.status_code == 302  # no form any more: the page as it is
    with tenant_context(world.shangcheng):
        assert Case.objects.get(pk=case.pk).rating == 5


def test_an_anonymous_report_keeps_no_name_or_phone_but_can_be_followed(world, sites):
    phone = new_phone()
    client = resident(XINGFU)
    confirm_phone(client, phone)
    number = reported_number(client.post("/report/", report_form(client, name="李先生", anonymous="on")))
    with tenant_context(world.shangcheng):
        case = Case.objects.get(number=number)
        assert case.reporter_name == "" and case.reporter_phone_encrypted is None and not case.reporter_phone_index
        assert ResidentReport.objects.get(case=case).anonymous
    assert client.get(f"/track/?code={number}&phone4={phone[-4:]}").status_code == 200


def test_a_wrong_pair_another_community_and_no_such_number_answer_alike(world, sites):
    phone = new_phone()
    client = resident(XINGFU)
    confirm_phone(client, phone)
    number = reported_number(client.post("/report/", report_form(client)))
    wrong_phone = client.get(f"/track/?code={number}&phone4={int(phone[-4:]) ^ 1:04d}")
    no_such = client.get(f"/track/?code=NOPE{number}&phone4={phone[-4:]}")
    elsewhere = resident(HEPING).get(f"/track/?code={number}&phone4={phone[-4:]}")
    other_county = resident("shangcheng.localhost").get(f"/track/?code={number}&phone4={phone[-4:]}")
    for response in (wrong_phone, no_such, elsewhere):
        text = response.content.decode()
        assert response.status_code == 404 and "data-status" not in text and 'role="alert"' in text
    assert other_county.status_code == 404  # the county's console host has no /track/ page at all


def test_guessing_tracking_pairs_is_rate_limited(world, sites):
    client = resident(XINGFU)
    answers = [client.get(f"/track/?code=2026{n:08d}&phone4=1234").status_code for n in range(32)]
    assert set(answers[:30]) == {404} and answers[30:] == [429, 429]


def test_a_wrong_code_or_challenge_confirms_nothing_and_guesses_run_out(world, sites, code_log):
    log = code_log
    phone = new_phone()
    client = resident(XINGFU)
    page = client.get("/phone/").content.decode()
    refused = client.post("/phone/", {"step": "send", "phone": phone, "challenge_0": re.search(
        r'name="challenge_0" value="([0-9a-f]+)"', page).group(1), "challenge_1": "999999"})
    assert refused.status_code == 400 and not log.codes  # the wrong sum sends nothing
    bad_phone = client.post("/phone/", {"step": "send", "phone": "12345",
                                        **challenge_answer(client.get("/phone/").content.decode())})
    assert bad_phone.status_code == 400 and not log.codes

    sent = client.post("/phone/", {"step": "send", "phone": phone,
                                   **challenge_answer(client.get("/phone/").content.decode())})
    assert sent.status_code == 200 and len(log.codes) == 1
    code = log.codes[0]
    wrong = f"{(int(code) + 1) % 10 ** 6:06d}"
    for _ in range(5):
        assert client.post("/phone/", {"step": "confirm", "phone": phone, "code": wrong}).status_code == 400
    spent = client.post("/phone/", {"step": "confirm", "phone": phone, "code": code})
    assert spent.status_code == 400  # five wrong guesses: even the right code is spent
    assert client.get("/report/").status_code == 302  # still not confirmed
    with tenant_context(world.shangcheng):
        assert not PhoneCode.objects.filter(confirmed_at__isnull=False, attempts__gte=5).exists()


def test_spam_and_bad_uploads_store_nothing(world, sites):
    phone = new_phone()
    client = resident(XINGFU)
    confirm_phone(client, phone)
    with tenant_context(world.shangcheng):
        cases = Case.objects.count()
    no_challenge = report_form(client)
    no_challenge["challenge_1"] = "wrong"
    assert client.post("/report/", no_challenge).status_code == 400
    fake = jpeg(name="photo.jpg")
    fake.file.seek(0)
    fake.file.truncate()
    fake.file.write(b"<script>alert(1)</script>")
    fake.file.seek(0)
    bad_upload = client.post("/report/", report_form(client, photos=[fake]))
    assert bad_upload.status_code == 400 and "photo.jpg" in bad_upload.content.decode()
    no_place = client.post("/report/", report_form(client, address=""))
    assert no_place.status_code == 400
    with tenant_context(world.shangcheng):
        assert Case.objects.count() == cases and not ResidentReport.objects.filter(case__number__isnull=True).exists()


def test_reports_are_rate_limited_per_phone(world, sites):
    phone = new_phone()
    client = resident(XINGFU)
    confirm_phone(client, phone)
    assert client.post("/report/", report_form(client, description="")).status_code == 400  # not counted
    for n in range(5):
        reported_number(client.post("/report/", report_form(client, description=f"路灯不亮 {n}")))
    refused = client.post("/report/", report_form(client, description="第六次"))
    assert refused.status_code == 429  # five accepted reports an hour per phone, then a clear refusal
    with tenant_context(world.shangcheng):
        assert not Case.objects.filter(description="第六次").exists()


def test_one_vote_per_confirmed_phone(world, sites):
    with tenant_context(world.shangcheng):
        from civicgrid.cms.demo import _fill

        home = sites[0].site.root_page.specific
        if not ConsultationPage.objects.descendant_of(home).exists():
            _fill(sites[0])
        consultation = ConsultationPage.objects.descendant_of(home).first()
        options = list(consultation.options.all())
    url = consultation.url_path[len(home.url_path) - 1:]
    client = resident(XINGFU)
    assert 'href="/phone/?next=' in client.get(url).content.decode()  # confirm your phone to vote
    assert client.post(url, {"option": options[0].pk}).status_code == 302  # to the phone first
    confirm_phone(client, new_phone(), next_url=url)
    assert client.post(url, {"option": options[0].pk}).status_code == 302
    assert client.post(url, {"option": options[1].pk}).status_code == 400  # once only
    with tenant_context(world.shangcheng):
        assert ConsultationVote.objects.filter(consultation=consultation).count() >= 1
        mine = ConsultationVote.objects.filter(consultation=consultation).order_by("-pk").first()
        assert mine.option_id == options[0].pk
    results = client.get(url).content.decode()
    assert 'value="100"' in results or "<meter" in results


def test_codes_go_out_through_a_channel_that_can_text_a_number(published, sites, code_log):  # noqa: F811
    import sample_plugin.hooks

    plugin_actions.enable_plugin(tenant=published.shangcheng, plugin_id="sample", acting_user=None)
    codes = sample_plugin.hooks.CODES
    codes.clear()
    log = code_log
    client, phone = resident(XINGFU), new_phone()
    sent = client.post("/phone/", {"step": "send", "phone": phone,
                                   **challenge_answer(client.get("/phone/").content.decode())})
    assert sent.status_code == 200 and not log.codes  # sent by the channel, not written to the log
    [(schema, to, text, reference)] = codes
    assert schema == "shangcheng" and to == phone and reference.startswith("shangcheng-code-")
    code = re.search(r"\d{6}", text).group(0)
    assert client.post("/phone/", {"step": "confirm", "phone": phone, "code": code}).status_code == 302
    codes.clear()
