"""Checking and cleaning what people attach to cases: photos and PDF documents.

An upload is judged by its content, never by its name: a script, a web page or a zip
renamed ``.jpg`` is refused before anything decodes it, and the stored extension comes
from what the bytes are. Images are decoded once, under a pixel limit checked from the
header, and written again from their pixels alone, so nothing a camera or an attacker
put beside the pixels (EXIF with GPS, XMP, comments, trailing data) survives. PDFs are
stored as they came, once nothing in them can run code.

Pure functions over bytes: no models, no storage. The caller stores the result.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zlib
from dataclasses import dataclass
from typing import BinaryIO

from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from PIL import Image, ImageCms, ImageOps

MAX_UPLOAD_BYTES = 10 * 1024 * 1024  # per file
MAX_IMAGE_PIXELS = 40_000_000  # refuse decompression bombs before decoding
MAX_IMAGE_SIDE = 2560  # larger photos are scaled down when re-encoded
THUMBNAIL_SIDE = 320
MAX_NAME_LENGTH = 200
JPEG_QUALITY = 85
THUMBNAIL_QUALITY = 80
# An object stream holds dictionaries, not pictures; one that inflates past this is not a document.
MAX_PDF_OBJECT_STREAM_BYTES = 16 * 1024 * 1024

# Pillow format name → (content type, extension). GIF is refused on purpose: animations
# would lose all but their first frame, and phones do not take photos as GIF.
IMAGE_TYPES = {
    "JPEG": ("image/jpeg", ".jpg"),
    "PNG": ("image/png", ".png"),
    "WEBP": ("image/webp", ".webp"),
}


@dataclass(frozen=True)
class CleanFile:
    data: bytes  # what to store: re-encoded for images, unchanged for PDFs
    content_type: str  # "image/jpeg", "image/png", "image/webp", "application/pdf"
    extension: str  # ".jpg", ".png", ".webp", ".pdf": from the content, never from the name
    kind: str  # "image" | "document"
    width: int | None
    height: int | None
    thumbnail: bytes | None  # JPEG, longest side THUMBNAIL_SIDE, for images
    original_name: str  # the uploaded name, cleaned for display


def clean_upload(stream: BinaryIO, *, name: str, max_bytes: int = MAX_UPLOAD_BYTES,
                 thumbnail: bool = True) -> CleanFile:
    """The upload read from ``stream`` (from its start when it can seek), checked and cleaned.
    ``thumbnail`` False leaves an image's thumbnail to be made later (``make_thumbnail``),
    off the request that uploaded it.

    Raises ``ValidationError`` with a code (``empty``, ``too_large``, ``unsupported_type``,
    ``image_too_large``, ``corrupt_image``, ``pdf_active_content``, ``pdf_encrypted``,
    ``pdf_unreadable``) and a message in the active language."""
    if getattr(stream, "seekable", lambda: False)():
        stream.seek(0)
    data = _read_at_most(stream, max_bytes + 1)
    if not data:
        raise ValidationError(_("The file is empty."), code="empty")
    if len(data) > max_bytes:
        raise ValidationError(
            _("The file is larger than %(limit)s.") % {"limit": filesizeformat(max_bytes)}, code="too_large"
        )
    image_format = _sniff_image(data)
    if image_format:
        return _clean_image(data, image_format, name, thumbnail=thumbnail)
    if data.startswith(b"%PDF-"):
        check_pdf(data)
        return CleanFile(data=data, content_type="application/pdf", extension=".pdf", kind="document",
                         width=None, height=None, thumbnail=None, original_name=display_name(name, ".pdf"))
    raise ValidationError(
        _("Only photos (JPEG, PNG, WebP) and PDF documents can be attached."), code="unsupported_type"
    )


def display_name(name: str, extension: str) -> str:
    """The uploaded name for showing to people: no folders, no control or direction-override
    characters (``invoice\\u202egpj.exe``), no leading dots, at most MAX_NAME_LENGTH characters."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip().lstrip(".").strip()
    if not base:
        return "upload" + extension
    if len(base) <= MAX_NAME_LENGTH:
        return base
    stem, dot, suffix = base.rpartition(".")
    if dot and 0 < len(suffix) <= 10:
        return stem[: MAX_NAME_LENGTH - len(suffix) - 1].rstrip() + "." + suffix
    return base[:MAX_NAME_LENGTH]


def _read_at_most(stream: BinaryIO, limit: int) -> bytes:
    # A raw stream may return fewer bytes than asked; keep reading, never past the limit.
    chunks, size = [], 0
    while size < limit:
        chunk = stream.read(min(1 << 20, limit - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _sniff_image(data: bytes) -> str | None:
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


# --- images -------------------------------------------------------------------------------


def _too_many_pixels() -> ValidationError:
    return ValidationError(
        _("The image is too large: at most %(megapixels)s million pixels are accepted.")
        % {"megapixels": MAX_IMAGE_PIXELS // 1_000_000},
        code="image_too_large",
    )


def _corrupt() -> ValidationError:
    return ValidationError(_("The image is damaged or incomplete and cannot be read."), code="corrupt_image")


def _open_checked(data: bytes, image_format: str) -> Image.Image:
    """The image with only its header read, refused if it declares too many pixels."""
    image = Image.open(io.BytesIO(data), formats=[image_format])
    width, height = image.size
    if width * height > MAX_IMAGE_PIXELS:
        raise _too_many_pixels()
    return image


def _decode(data: bytes, image_format: str) -> Image.Image:
    try:
        # verify() checks the structure (PNG chunk CRCs) without decoding; the image must be opened again after.
        _open_checked(data, image_format).verify()
        image = _open_checked(data, image_format)
        if image_format == "JPEG":
            # Let libjpeg decode a big photo at 1/2, 1/4 or 1/8 scale: it is scaled down anyway.
            image.draft(None, _fit(image.size, MAX_IMAGE_SIDE))
        image.load()
    except ValidationError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _too_many_pixels() from exc
    except Exception as exc:
        # Pillow raises many kinds of error on hostile or broken bytes; each means "cannot be read".
        raise _corrupt() from exc
    return image


def _clean_image(data: bytes, image_format: str, name: str, *, thumbnail: bool = True) -> CleanFile:
    image = _decode(data, image_format)
    try:
        # In place: the decoded image is ours, and a copy of a phone photo costs milliseconds.
        ImageOps.exif_transpose(image, in_place=True)
    except Exception:
        pass  # a broken EXIF block costs the orientation, not the photo
    keep_alpha = image_format != "JPEG" and image.has_transparency_data
    image = _to_srgb(image, "RGBA" if keep_alpha else "RGB")
    image.thumbnail((MAX_IMAGE_SIDE, MAX_IMAGE_SIDE), Image.Resampling.LANCZOS)
    # A new image holds the pixels and nothing else: no EXIF, GPS, XMP, ICC, text chunks or comments.
    clean = Image.new(image.mode, image.size)
    clean.paste(image)
    content_type, extension = IMAGE_TYPES[image_format]
    return CleanFile(
        data=_encode(clean, image_format),
        content_type=content_type,
        extension=extension,
        kind="image",
        width=clean.width,
        height=clean.height,
        thumbnail=_thumbnail(clean) if thumbnail else None,
        original_name=display_name(name, extension),
    )


def _to_srgb(image: Image.Image, mode: str) -> Image.Image:
    """Pixels in ``mode`` and in sRGB. An embedded colour profile (Display P3 from phones,
    CMYK from print) is applied, then dropped: viewers assume sRGB for an untagged image,
    so the colours stay right without keeping the profile."""
    icc = image.info.get("icc_profile")
    if icc and (image.mode, mode) in (("RGB", "RGB"), ("CMYK", "RGB"), ("RGBA", "RGBA")):
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            image = ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"), outputMode=mode)
        except Exception:
            pass  # a broken profile is ignored: the plain conversion below is close enough
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N"):
        image = image.convert("I").point(lambda value: value / 256).convert("L")  # 16-bit grey down to 8
    return image if image.mode == mode else image.convert(mode)


def _encode(image: Image.Image, image_format: str) -> bytes:
    out = io.BytesIO()
    if image_format == "JPEG":
        # No optimize=True: its second Huffman pass made the encode three times slower
        # (26 ms against 9 ms for a phone photo) for a file about 5 % smaller.
        image.save(out, "JPEG", quality=JPEG_QUALITY)
    elif image_format == "WEBP":
        image.save(out, "WEBP", quality=JPEG_QUALITY)
    else:
        image.save(out, "PNG")
    return out.getvalue()


def make_thumbnail(data: bytes) -> bytes:
    """The thumbnail of an image this module cleaned before (stored bytes, already checked:
    a JPEG is decoded at a reduced scale straight away)."""
    image = Image.open(io.BytesIO(data))
    if image.format == "JPEG":
        image.draft("RGB", (THUMBNAIL_SIDE * 2, THUMBNAIL_SIDE * 2))
    image.load()
    return _thumbnail(image)


def _thumbnail(image: Image.Image) -> bytes:
    thumb = image.copy()
    thumb.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE), Image.Resampling.LANCZOS)
    if thumb.mode == "RGBA":
        background = Image.new("RGB", thumb.size, "white")
        background.paste(thumb, mask=thumb.getchannel("A"))
        thumb = background
    out = io.BytesIO()
    thumb.save(out, "JPEG", quality=THUMBNAIL_QUALITY)
    return out.getvalue()


def _fit(size: tuple[int, int], side: int) -> tuple[int, int]:
    width, height = size
    scale = min(1.0, side / max(width, height, 1))
    return max(1, round(width * scale)), max(1, round(height * scale))


# --- PDF ------------------------------------------------------------------------------------

# Names that make a PDF run code, start programs or carry other files.
PDF_ACTIVE_NAMES = {b"JavaScript", b"JS", b"Launch", b"EmbeddedFile", b"RichMedia", b"XFA"}
# Filters (and predictors) we do not undo; an object stream using them cannot be checked.
PDF_UNREADABLE_FILTERS = {
    b"ASCIIHexDecode", b"AHx", b"ASCII85Decode", b"A85", b"LZWDecode", b"LZW",
    b"RunLengthDecode", b"RL", b"Crypt", b"Predictor",
}
_PDF_NAME = re.compile(rb"/([^\x00\t\n\x0c\r /%()<>\[\]{}]+)")
_PDF_NAME_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
# A stream's body follows its dictionary; "/Upstream" on a line of its own is not one.
_PDF_STREAM = re.compile(rb">>[\x00\t\n\x0c\r ]*stream(?:\r\n|\n|\r)")
# An action, spelled out (``/S /JavaScript``): looked for inside stream bodies, where single
# names would turn up by chance in compressed pictures but this pair never does.
_PDF_ACTION = re.compile(rb"/S(?:[\x00\t\n\x0c\r ]|%[^\r\n]*)*/(?:JavaScript|Launch)(?![^\x00\t\n\x0c\r /%()<>\[\]{}])")


def check_pdf(data: bytes) -> None:
    """Refuse a PDF that can run code. Names are read outside streams and inside object
    streams (PDF 1.5 hides dictionaries there, deflated), with ``#xx`` escapes undone;
    other stream bodies are searched for a spelled-out action, in case a string in a
    dictionary fooled us into taking text for a stream.

    A screen, not a PDF parser: PDFs are stored unchanged, so serve them as downloads."""
    names: set[bytes] = set()
    action_in_a_body = False
    position = 0
    while True:
        start = _PDF_STREAM.search(data, position)
        text_names = _pdf_names(data[position : start.start() if start else len(data)])
        names |= text_names
        if start is None:
            break
        body_end = data.find(b"endstream", start.end())
        body_end = len(data) if body_end < 0 else body_end
        body = memoryview(data)[start.end() : body_end]
        if b"ObjStm" in text_names:
            if text_names & PDF_UNREADABLE_FILTERS:
                raise _pdf_unreadable()
            names |= _pdf_names(_inflate(body))
        else:
            action_in_a_body = action_in_a_body or bool(_PDF_ACTION.search(_unescape(bytes(body))))
        position = body_end + len(b"endstream")
    if b"Encrypt" in names:
        raise ValidationError(
            _("Encrypted or password-protected PDFs are not accepted; save the document without a password."),
            code="pdf_encrypted",
        )
    if action_in_a_body or names & PDF_ACTIVE_NAMES:
        raise ValidationError(
            _("The PDF contains scripts, embedded files or actions that start programs; it is not accepted."),
            code="pdf_active_content",
        )


def _pdf_names(text: bytes) -> set[bytes]:
    return {_unescape(name) for name in _PDF_NAME.findall(text)}


def _unescape(text: bytes) -> bytes:
    return _PDF_NAME_ESCAPE.sub(lambda match: bytes([int(match[1], 16)]), text)


def _inflate(body: memoryview) -> bytes:
    inflater = zlib.decompressobj()
    try:
        inflated = inflater.decompress(body, MAX_PDF_OBJECT_STREAM_BYTES + 1)
    except zlib.error as exc:
        raise _pdf_unreadable() from exc
    if len(inflated) > MAX_PDF_OBJECT_STREAM_BYTES:
        raise _pdf_unreadable()
    return inflated


def _pdf_unreadable() -> ValidationError:
    return ValidationError(_("The PDF cannot be checked for scripts, so it is not accepted."), code="pdf_unreadable")
