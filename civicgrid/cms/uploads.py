"""Editors' images and documents are checked exactly as a case's photos are
(``files.uploads.clean_upload``: type by content, size, pixel bombs, EXIF and GPS
stripped, PDFs without active content) before Wagtail stores anything; what is stored
is the cleaned file, never the upload."""

from __future__ import annotations

import os

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.translation import gettext as _
from wagtail.documents.forms import BaseDocumentForm
from wagtail.images.forms import BaseImageForm

from civicgrid.platform.files.uploads import clean_upload


def _cleaned(form, kind: str) -> None:
    upload = form.files.get(form.add_prefix("file")) if form.files else None
    if upload is None or "file" not in form.cleaned_data:
        return
    try:
        clean = clean_upload(upload, name=upload.name)
    except ValidationError as exc:
        form.add_error("file", exc.messages)
        return
    if clean.kind != kind:
        form.add_error("file", _("Upload a photo (JPEG, PNG, WebP) here.") if kind == "image"
                       else _("Upload a PDF document here."))
        return
    stem = os.path.splitext(clean.original_name)[0] or "upload"
    cleaned_file = SimpleUploadedFile(stem + clean.extension, clean.data, content_type=clean.content_type)
    form.cleaned_data["file"] = cleaned_file


class CleanImageForm(BaseImageForm):
    def clean(self):
        cleaned = super().clean()
        _cleaned(self, "image")
        return cleaned


class CleanDocumentForm(BaseDocumentForm):
    def clean(self):
        cleaned = super().clean()
        _cleaned(self, "document")
        return cleaned
