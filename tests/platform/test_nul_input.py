"""A NUL character (U+0000) anywhere in a request's text is refused with 400 before it
can reach PostgreSQL (which cannot store it and would answer 500): in the path, the
query string, headers, cookies, form fields and JSON strings. The refusal changes
nothing, speaks the endpoint family's error format (Open311, the REST API, the
console) and the user's language. Uploaded files' bytes are not text: not refused."""

from __future__ import annotations

import io
import json
from urllib.parse import urlencode
from xml.etree import ElementTree as ET

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import translation
from django_tenants.utils import tenant_context
from PIL import Image
from rest_framework.test import APIClient

from civicgrid.platform.api.open311 import keys
from civicgrid.platform.cases.models import Case

SHANGCHENG = "shangcheng.localhost"
IN_G01 = {"latitude": 30.245, "longitude": 120.175}  # inside shangcheng's T01-C01-G01
ENGLISH = "The request contains a NUL character (U+0000), which no text may contain. Nothing was changed."
NUL = "\x00"
OPEN311_FIELDS = ["api_key", "service_code", "lat", "long", "address_string", "email", "first_name", "last_name",
                  "phone", "description", "media_url"]


def chinese() -> str:
    with translation.override("zh-hans"):
        message = translation.gettext(ENGLISH)
    assert message != ENGLISH and "空字符" in message  # the catalogue has it
    return message


def cases_in(world) -> int:
    with tenant_context(world.shangcheng):
        return Case.objects.count()


def signed_in(world, username: str, **headers) -> Client:
    http = Client(HTTP_HOST=SHANGCHENG, **headers)
    http.force_login(world.user(username))
    return http


def api(world, username: str = "shangcheng_gridworker", **headers) -> APIClient:
    http = APIClient(HTTP_HOST=SHANGCHENG, **headers)
    http.force_login(world.user(username))
    return http


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 40, 30)).save(buffer, "JPEG")
    return buffer.getvalue()


def refused_page(response, message: str = ENGLISH) -> str:
    """The console's 400 page: its layout, the message, no form of the refused page."""
    assert response.status_code == 400, response.content[:500]
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert 'class="top"' in page and 'class="card"' in page and message in page
    return page


def api_error(response, message: str = ENGLISH) -> None:
    assert response.status_code == 400, response.content[:500]
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": message}


# --- Open311 ---------------------------------------------------------------------------------


@pytest.fixture
def open311(world):
    with tenant_context(world.shangcheng):
        key = keys.create_key(label="探针")
    report = {"api_key": key, "service_code": "DSP-NEIGHBOUR", "lat": "30.245", "long": "120.175",
              "address_string": "清泰街100号", "email": "zhang@example.com", "first_name": "三", "last_name": "张",
              "phone": "13800138000", "description": "楼上漏水", "media_url": "https://img.example.com/a.jpg"}
    return world, report


def open311_error(response, fmt: str) -> list[str]:
    assert response.status_code == 400, response.content[:500]
    if fmt == "xml":
        assert response["Content-Type"] == "text/xml; charset=utf-8"
        root = ET.fromstring(response.content)
        assert root.tag == "errors" and [e.tag for e in root] == ["error"]
        assert root[0].findtext("code") == "400"
        return [root[0].findtext("description")]
    assert response["Content-Type"] == "application/json; charset=utf-8"
    body = response.json()
    assert [set(item) for item in body] == [{"code", "description"}] and body[0]["code"] == 400
    return [body[0]["description"]]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_open311_refuses_a_nul_in_each_field_and_creates_nothing(open311, fmt):
    world, report = open311
    http = Client(HTTP_HOST=SHANGCHENG, HTTP_ACCEPT_LANGUAGE="en", enforce_csrf_checks=True)
    url = f"/open311/v2/requests.{fmt}"
    before = cases_in(world)
    for field in OPEN311_FIELDS:
        poisoned = {**report, field: report[field][:2] + NUL + report[field][2:]}
        # form-encoded, as the spec posts (the NUL travels as %00 and, below, as a raw byte)
        response = http.post(url, urlencode(poisoned), content_type="application/x-www-form-urlencoded")
        assert open311_error(response, fmt) == [ENGLISH], field
        raw = urlencode({k: v for k, v in report.items() if k != field}).encode() + f"&{field}=a".encode() + b"\x00"
        response = http.post(url, raw, content_type="application/x-www-form-urlencoded")
        assert open311_error(response, fmt) == [ENGLISH], field
        # multipart (Django parses it for the view; the check runs as it is parsed)
        assert open311_error(http.post(url, poisoned), fmt) == [ENGLISH], field
    assert open311_error(http.post(url, {**report, "note" + NUL: "x"}), fmt) == [ENGLISH]  # a field's name
    assert open311_error(http.get(f"/open311/v2/requests.{fmt}?status=open{NUL}"), fmt) == [ENGLISH]
    assert open311_error(http.get(f"/open311/v2/requests/CG{NUL}1.{fmt}"), fmt) == [ENGLISH]  # in the path
    assert cases_in(world) == before
    # The same report without the NUL goes through.
    response = http.post(url, urlencode(report), content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200, response.content
    assert cases_in(world) == before + 1


def test_open311_refusal_is_chinese_by_default(open311):
    world, report = open311
    response = Client(HTTP_HOST=SHANGCHENG).post("/open311/v2/requests.json", {**report, "description": "漏" + NUL})
    assert open311_error(response, "json") == [chinese()]
    assert response["Content-Language"] == "zh-hans"


# --- the REST API ----------------------------------------------------------------------------


def test_api_refuses_a_nul_in_a_nested_json_string_and_creates_nothing(world):
    http = api(world, HTTP_ACCEPT_LANGUAGE="en")
    report = {"category": "DSP-NEIGHBOUR", "title": "楼道堆物", "description": "三楼楼道堆满杂物", **IN_G01}
    before = cases_in(world)
    for poisoned in ({**report, "extra": {"notes": ["fine", {"deep": "a" + NUL + "b"}]}},
                     {**report, "title": "楼道" + NUL},
                     {**report, "extra": {"key" + NUL: 1}}):
        api_error(http.post("/api/v1/cases/", poisoned, format="json"))
    raw = json.dumps(report, ensure_ascii=False).encode().replace("楼道堆物".encode(), b"\x00")  # a raw NUL byte
    api_error(http.post("/api/v1/cases/", raw, content_type="application/json"))
    # forms to a DRF view (DRF parses multipart itself; the check still sees the fields)
    api_error(http.post("/api/v1/cases/", {**report, "title": "楼道" + NUL}, format="multipart"))
    api_error(http.post("/api/v1/cases/", urlencode({**report, "title": "楼道" + NUL}),
                        content_type="application/x-www-form-urlencoded"))
    assert cases_in(world) == before
    # "\\u0000" spelled as text (an escaped backslash) is no NUL; malformed JSON is the view's to refuse.
    response = http.post("/api/v1/cases/", {**report, "title": "路径 C:\\u0000"}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["title"] == "路径 C:\\u0000"
    bad = http.post("/api/v1/cases/", b'{"title": "\\u0000', content_type="application/json")
    assert bad.status_code == 400 and "JSON parse error" in bad.json()["detail"]
    assert cases_in(world) == before + 1


def test_api_list_filters_with_a_nul_are_400_not_500(world):
    http = api(world, "shangcheng_operator", HTTP_ACCEPT_LANGUAGE="en")
    api_error(http.get("/api/v1/cases/?q=%00"))
    api_error(http.get("/api/v1/cases/", {"status": "reported" + NUL}))
    api_error(http.get("/api/v1/cases/", {"grid" + NUL: "T01"}))
    api_error(http.get("/api/v1/cases/", HTTP_X_PROBE="a" + NUL))  # a header value
    assert http.get("/api/v1/cases/?q=漏水").status_code == 200
    api_error(api(world, "shangcheng_operator").get("/api/v1/cases/?q=%00"), chinese())


# --- the console -----------------------------------------------------------------------------


def test_console_list_filters_with_a_nul_are_400_in_the_users_language(world):
    english = signed_in(world, "shangcheng_operator", HTTP_ACCEPT_LANGUAGE="en")
    page = refused_page(english.get("/cases/?q=%00"))
    assert 'lang="en"' in page
    refused_page(english.get("/cases/", {"status": "open" + NUL}))
    refused_page(english.get("/cases/%00/"))  # in the path
    assert english.get("/cases/?q=漏水").status_code == 200

    default = signed_in(world, "shangcheng_operator")
    response = default.get("/cases/?q=%00")
    page = refused_page(response, chinese())
    assert 'lang="zh-hans"' in page and response["Content-Language"] == "zh-hans"
    assert "Accept-Language" in response["Vary"]

    by_cookie = signed_in(world, "shangcheng_operator")
    by_cookie.cookies["django_language"] = "en"
    refused_page(by_cookie.get("/cases/?q=%00"))

    # The province site has the same page.
    refused_page(Client(HTTP_HOST="localhost", HTTP_ACCEPT_LANGUAGE="en").get("/?q=%00"))


def test_headers_and_cookies_with_a_nul_are_refused(world):
    http = Client(HTTP_HOST=SHANGCHENG, HTTP_ACCEPT_LANGUAGE="en")
    refused_page(http.get("/accounts/login/", HTTP_USER_AGENT="probe" + NUL))
    # A quoted cookie value's octal escape \000 decodes to NUL (it would reach the session table).
    refused_page(http.get("/accounts/login/", HTTP_COOKIE='sessionid="abcdefgh\\000ijk"'))
    assert http.get("/accounts/login/", HTTP_COOKIE='other="a\\001b"').status_code == 200


def test_console_form_posts_with_a_nul_are_refused_and_store_nothing(world):
    form = {"category": "DSP-NEIGHBOUR", "title": "楼道堆物" + NUL, "description": "三楼", **IN_G01}
    before = cases_in(world)
    worker = signed_in(world, "shangcheng_gridworker", HTTP_ACCEPT_LANGUAGE="en")
    refused_page(worker.post("/cases/new/", form))  # multipart, read by the view
    refused_page(worker.post("/cases/new/", urlencode(form), content_type="application/x-www-form-urlencoded"))
    refused_page(worker.post("/cases/new/", {**form, "title": "楼道", "photos": [
        SimpleUploadedFile("现场.jpg", jpeg(), content_type="image/jpeg" + NUL)]}))  # an upload's declared type

    # With the CSRF check on, the check runs as the CSRF middleware parses the form.
    guarded = Client(HTTP_HOST=SHANGCHENG, HTTP_ACCEPT_LANGUAGE="en", enforce_csrf_checks=True)
    guarded.force_login(world.user("shangcheng_gridworker"))
    assert guarded.get("/cases/new/").status_code == 200
    token = guarded.cookies["csrftoken"].value
    refused_page(guarded.post("/cases/new/", {**form, "csrfmiddlewaretoken": token}))
    assert cases_in(world) == before


def test_uploaded_files_with_nul_bytes_are_not_refused(world):
    photo = jpeg()
    assert b"\x00" in photo  # a JPEG's bytes are full of NULs
    worker = signed_in(world, "shangcheng_gridworker", HTTP_ACCEPT_LANGUAGE="en")
    response = worker.post("/cases/new/", {"category": "DSP-NEIGHBOUR", "title": "带照片的上报", **IN_G01,
                                           "photos": [SimpleUploadedFile("现场.jpg", photo, "image/jpeg")]})
    assert response.status_code == 302, response.content.decode()[:2000]
    png = io.BytesIO()
    Image.new("RGB", (64, 48), (20, 90, 200)).save(png, "PNG")
    assert b"\x00" in png.getvalue()
    png.seek(0)
    png.name = "scene.png"
    response = api(world).post("/api/v1/cases/", {"category": "DSP-NEIGHBOUR", "title": "接口带照片", **IN_G01,
                                                   "photos": [png]}, format="multipart")
    assert response.status_code == 201, response.content
    with tenant_context(world.shangcheng):
        for title in ("带照片的上报", "接口带照片"):
            case = Case.objects.get(title=title)
            assert case.attachments.count() == 1
            for item in case.attachments.all():  # files are stored outside the test transaction
                for name in filter(None, (item.file, item.thumbnail)):
                    default_storage.delete(name)


def test_basic_credentials_with_a_nul_are_refused(world):
    """Base64 hides the NUL from the header check; decoded, it reached the sign-in lockout's
    query and the user lookup (500)."""
    import base64

    for credentials in (b"shangcheng_gridworker\x00:x", b"someone:pass\x00word"):
        header = "Basic " + base64.b64encode(credentials).decode()
        api_error(Client(HTTP_HOST=SHANGCHENG, HTTP_ACCEPT_LANGUAGE="en", HTTP_AUTHORIZATION=header)
                  .get("/api/v1/me/"))
    # Not base64, or no NUL: DRF's own answer, not this one.
    for header in ("Basic !!!", "Basic " + base64.b64encode(b"nobody:wrong").decode()):
        response = Client(HTTP_HOST=SHANGCHENG, HTTP_ACCEPT_LANGUAGE="en", HTTP_AUTHORIZATION=header).get(
            "/api/v1/me/")
        assert response.status_code in (401, 403) and "NUL" not in response.json()["detail"]
