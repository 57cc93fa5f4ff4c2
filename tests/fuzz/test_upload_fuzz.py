"""Files people upload, made hostile: the registry import and the list verification
(random bytes, wrong encodings, NUL, huge cells and headers, too many columns, damaged
workbooks, formulas), and photos on a case (polyglots, a pixel bomb, truncated files,
EXIF with GPS, SVG, random bytes). A file that cannot be taken gets a clear error in the
user's language and leaves nothing behind: no row, no object in storage. One that can
be taken is stored cleaned, and whatever we hand out again keeps formulas inert."""

from __future__ import annotations

import codecs
import io
import re
import zipfile

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django_tenants.utils import tenant_context
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import ExifTags, Image

from civicgrid.platform.cases.models import Attachment, Case
from civicgrid.platform.registry.imports.models import ImportBatch
from tests.fuzz.conftest import SHANGCHENG
from tests.fuzz.harness import CJK, FUZZ_SETTINGS

pytestmark = [pytest.mark.fuzz]

HEADER = "姓名,身份证号,手机号,现住址,网格编码\r\n"
ROW = "张三,330102199001011234,13800138000,解放路1号,T01-C01-G01\r\n"
IN_G01 = {"latitude": 30.245, "longitude": 120.175}


def signed_in(world, username: str) -> Client:
    http = Client(HTTP_HOST=SHANGCHENG)  # no Accept-Language: Chinese, the default
    http.force_login(world.user(username))
    return http


def stored_files(media) -> list[str]:
    return sorted(str(p.relative_to(media)) for p in media.rglob("*") if p.is_file()) if media.exists() else []


def error_text(response) -> str:
    """The errors a page shows (Django's error lists), as text."""
    page = response.content.decode()
    items = re.findall(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', page, re.S)
    return re.sub(r"<[^>]+>", " ", " ".join(items)).strip()


# --- the registry import ------------------------------------------------------------------


def xlsx(rows) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


REFUSED_IMPORTS = {
    "empty": b"",
    "header only": HEADER.encode(),
    "UTF-8 then GBK": (HEADER + ROW).encode() + "李四,330102199001011234,,西湖区,T01\r\n".encode("gbk"),
    "UTF-16 without its mark": (HEADER + ROW).encode("utf-16-le"),
    "NUL bytes": (HEADER + ROW).encode().replace(b"13800138000", b"138\x00\x00138000"),
    "a damaged workbook": b"PK\x03\x04" + bytes(range(256)) * 8,
    "a workbook with no rows": xlsx([["姓名", "身份证号"]]),
    "a zip that is not a workbook": (lambda out: (zipfile.ZipFile(out, "w").writestr("a.txt", "x"), out)[1])(
        io.BytesIO()).getvalue(),
    "a header line of 100,000 characters": ("姓名," * 50_000 + "\r\n" + ROW).encode(),
    "5,000 columns": (",".join(f"列{i}" for i in range(5000)) + "\r\n" + ROW).encode(),
}


@pytest.mark.parametrize("name", REFUSED_IMPORTS)
def test_an_import_that_cannot_be_read_is_refused_with_a_reason_and_nothing_kept(world, media, name):
    admin = signed_in(world, "shangcheng_admin")
    with tenant_context(world.shangcheng):
        before = ImportBatch.objects.count()
    response = admin.post("/registry/imports/", {"target": "", "department": "D-PSB", "file": SimpleUploadedFile(
        "人口.xlsx" if "workbook" in name else "人口.csv", REFUSED_IMPORTS[name])})
    assert response.status_code == 400, (name, response.status_code)
    reason = error_text(response)
    assert CJK.search(reason), (name, reason)
    with tenant_context(world.shangcheng):
        assert ImportBatch.objects.count() == before
    assert stored_files(media) == [], name


@pytest.mark.parametrize(("name", "data"), [
    ("GBK", (HEADER + ROW).encode("gbk")),
    ("UTF-8 with BOM", codecs.BOM_UTF8 + (HEADER + ROW).encode()),
    ("UTF-16 with BOM (Excel's Unicode text)", codecs.BOM_UTF16_LE + (HEADER + ROW).replace(",", "\t").encode(
        "utf-16-le")),
])
def test_the_encodings_spreadsheets_save_are_read(world, media, name, data):
    response = signed_in(world, "shangcheng_admin").post("/registry/imports/", {
        "target": "", "department": "D-PSB", "file": SimpleUploadedFile("人口.csv", data)})
    if name.startswith("UTF-16"):  # the import reads UTF-8 and GBK only; refused, and says so
        assert response.status_code == 400 and CJK.search(error_text(response))
        assert stored_files(media) == []
        return
    assert response.status_code == 302, error_text(response)
    with tenant_context(world.shangcheng):
        assert ImportBatch.objects.latest("pk").header == ["姓名", "身份证号", "手机号", "现住址", "网格编码"]


@settings(FUZZ_SETTINGS, max_examples=25)
@given(data=st.binary(min_size=1, max_size=4096))
def run_random_imports(admin, world, media, data):
    with tenant_context(world.shangcheng):
        before = ImportBatch.objects.count()
    response = admin.post("/registry/imports/", {"target": "", "department": "D-PSB",
                                                 "file": SimpleUploadedFile("随机.csv", data)})
    assert response.status_code in (302, 400), response.status_code
    with tenant_context(world.shangcheng):
        if response.status_code == 400:
            assert CJK.search(error_text(response))
            assert ImportBatch.objects.count() == before
        else:
            assert ImportBatch.objects.count() == before + 1


def test_random_bytes_as_an_import_are_refused_or_taken_never_a_crash(world, media):
    run_random_imports(signed_in(world, "shangcheng_admin"), world, media)


# --- formulas in what we hand out again -----------------------------------------------------

FORMULAS = ["=cmd|' /C calc'!A0", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1,1)", "=HYPERLINK(\"http://x\")"]


def inert(cells) -> list[str]:
    """The text cells that a spreadsheet program would run as a formula."""
    return [c for c in cells if isinstance(c, str) and c[:1] in ("=", "+", "-", "@", "\t", "\r")]


def workbook_cells(data: bytes) -> tuple[list, list]:
    """(every value, the cells openpyxl wrote as formulas) of a workbook's first sheet."""
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(data)).active
    cells = [cell for row in sheet.iter_rows() for cell in row]
    return [c.value for c in cells], [c.coordinate for c in cells if c.data_type == "f"]


def test_an_imports_reconciliation_report_keeps_formulas_inert(world, media):
    from civicgrid.platform.registry.imports import actions, reports

    rows = "".join(f"{f},{f},{f},{f},{f}\r\n" for f in FORMULAS)
    admin = signed_in(world, "shangcheng_admin")
    response = admin.post("/registry/imports/", {"target": "", "department": "D-PSB",
                                                 "file": SimpleUploadedFile("公式.csv", (HEADER + rows).encode())})
    assert response.status_code == 302, error_text(response)
    with tenant_context(world.shangcheng):
        batch = ImportBatch.objects.latest("pk")
        actions.map_columns(staff=None, batch=batch, column_mapping={
            "姓名": "name", "身份证号": "id_number", "手机号": "phone", "现住址": "actual_address",
            "网格编码": "grid"})
        batch = actions.run_import(batch=batch)
        lines = list(reports.rows(batch))
        assert len(lines) == len(FORMULAS)
        assert inert(cell for line in lines for cell in line) == []
        out = io.BytesIO()
        reports.write_xlsx(batch, out)
        values, formulas = workbook_cells(out.getvalue())
        assert formulas == [] and inert(values) == []


def test_a_verified_lists_results_keep_formulas_inert(world, media):
    rows = "".join(f"{f},{f},{f}\r\n" for f in FORMULAS)
    operator = signed_in(world, "shangcheng_operator")
    response = operator.post("/registry/verify/", {"file": SimpleUploadedFile(
        "核验.csv", ("姓名,身份证号,地址\r\n" + rows).encode())})
    assert response.status_code == 302, error_text(response)
    result = response["Location"]
    text = operator.get(result + "download.csv").content.decode("utf-8-sig")
    import csv

    assert inert(cell for line in csv.reader(io.StringIO(text)) for cell in line) == []
    values, formulas = workbook_cells(operator.get(result + "download.xlsx").content)
    assert formulas == [] and inert(values) == []


# --- the list verification --------------------------------------------------------------------

REFUSED_LISTS = {
    "empty": b"",
    "random bytes": bytes(range(256)) * 4,
    "no usable header": "甲,乙,丙\r\n1,2,3\r\n".encode(),
    "header only": "姓名,身份证号,地址\r\n".encode(),
    "a damaged workbook": b"PK\x03\x04" + b"\x00" * 512,
    "a PNG": b"\x89PNG\r\n\x1a\n" + b"\x00" * 64,
}


@pytest.mark.parametrize("name", REFUSED_LISTS)
def test_a_list_that_cannot_be_read_is_refused_with_a_reason_and_nothing_kept(world, media, name):
    operator = signed_in(world, "shangcheng_operator")
    response = operator.post("/registry/verify/", {"file": SimpleUploadedFile("核验.csv", REFUSED_LISTS[name])})
    assert response.status_code in (200, 400), name  # the form again, with the reason
    assert CJK.search(error_text(response)), (name, error_text(response))
    assert stored_files(media) == []


@settings(FUZZ_SETTINGS, max_examples=20)
@given(data=st.binary(min_size=1, max_size=2048))
def run_random_lists(operator, data):
    response = operator.post("/registry/verify/", {"file": SimpleUploadedFile("核验.csv", data)})
    assert response.status_code in (200, 302, 400), response.status_code
    if response.status_code != 302:
        assert CJK.search(error_text(response))


def test_random_bytes_as_a_list_are_refused_or_verified_never_a_crash(world, media):
    run_random_lists(signed_in(world, "shangcheng_operator"))


# --- photos on a case -------------------------------------------------------------------------


def photo(fmt: str = "JPEG", size=(64, 48), **options) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 40, 30)).save(out, fmt, **options)
    return out.getvalue()


def with_gps() -> bytes:
    exif = Image.Exif()
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef], gps[ExifTags.GPS.GPSLatitude] = "N", (30.0, 14.0, 42.0)
    exif[ExifTags.Base.Make] = "SecretCam"
    return photo(exif=exif)


def png_declaring(width: int, height: int) -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + \
        chunk(b"IEND", b"")


def zip_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("payload.html", "<script>alert(1)</script>")
    return out.getvalue()


REFUSED_PHOTOS = {
    "a PNG declaring 50000 × 50000": ("炸弹.png", png_declaring(50_000, 50_000)),
    "a truncated JPEG": ("半张.jpg", photo(size=(640, 480))[:600]),
    "an SVG": ("图.svg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect/></svg>'),
    "an SVG named .jpg": ("图.jpg", b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>'),
    "HTML named .jpg": ("页.jpg", b"<html><script>alert(1)</script></html>"),
    "a zip named .jpg": ("包.jpg", zip_bytes()),
    "a GIF": ("动.gif", photo("GIF")),
    "empty": ("空.jpg", b""),
}
ACCEPTED_PHOTOS = {
    "JPEG + ZIP polyglot": ("多.jpg", photo() + zip_bytes()),
    "JPEG + HTML polyglot": ("多.jpg", photo() + b"<html><script>alert(1)</script></html>"),
    "EXIF with GPS": ("定位.jpg", with_gps()),
}


def report(world, files):
    from rest_framework.test import APIClient

    worker = APIClient(HTTP_HOST=SHANGCHENG)
    worker.force_login(world.user("shangcheng_gridworker"))
    return worker.post("/api/v1/cases/", {"category": "DSP-NEIGHBOUR", "title": "带附件的上报", **IN_G01,
                                          "photos": files}, format="multipart")


def counts(world) -> tuple[int, int]:
    with tenant_context(world.shangcheng):
        return Case.objects.count(), Attachment.objects.count()


@pytest.mark.parametrize("name", REFUSED_PHOTOS)
def test_a_photo_that_is_not_one_is_refused_with_a_reason_and_nothing_kept(world, media, name):
    file_name, data = REFUSED_PHOTOS[name]
    before = counts(world)
    # beside a good photo: the good one is not kept either
    response = report(world, [SimpleUploadedFile("好.jpg", photo()), SimpleUploadedFile(file_name, data)])
    assert response.status_code == 400, (name, response.content[:300])
    assert response["Content-Type"] == "application/json"
    messages = response.json().get("photos")
    assert messages and all(CJK.search(m) for m in messages), (name, response.json())
    assert counts(world) == before
    assert stored_files(media) == [], name


@pytest.mark.parametrize("name", ACCEPTED_PHOTOS)
def test_a_photo_is_stored_as_its_pixels_alone(world, media, name):
    file_name, data = ACCEPTED_PHOTOS[name]
    response = report(world, [SimpleUploadedFile(file_name, data)])
    assert response.status_code == 201, response.content[:300]
    with tenant_context(world.shangcheng):
        attachment = Attachment.objects.get(case_id=response.json()["id"])
        with default_storage.open(attachment.file) as stored_file:
            stored = stored_file.read()
    assert stored_files(media), "the photo is not where refusals are looked for"
    assert b"PK\x03\x04" not in stored and b"<script" not in stored and b"SecretCam" not in stored
    image = Image.open(io.BytesIO(stored))
    assert image.format == "JPEG" and ExifTags.IFD.GPSInfo not in image.getexif()


@settings(FUZZ_SETTINGS, max_examples=20)
@given(data=st.one_of(st.binary(min_size=1, max_size=2048),
                      st.binary(max_size=1024).map(lambda tail: photo()[:200] + tail),
                      st.binary(max_size=1024).map(lambda tail: b"\x89PNG\r\n\x1a\n" + tail)))
def run_random_photos(world, media, data):
    before = counts(world)
    response = report(world, [SimpleUploadedFile("随机.jpg", data)])
    assert response.status_code in (201, 400), response.status_code
    if response.status_code == 400:
        assert all(CJK.search(m) for m in response.json()["photos"])
        assert counts(world) == before


def test_random_bytes_as_a_photo_are_refused_or_cleaned_never_a_crash(world, media):
    run_random_photos(world, media)
