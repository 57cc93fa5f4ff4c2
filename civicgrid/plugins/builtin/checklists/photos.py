"""Serving a failed item's photo from storage: the modules' photo views check who may see
it, then answer with ``photo_response(row)``; never a storage URL."""

from __future__ import annotations

import mimetypes

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404


def photo_response(row) -> FileResponse:
    """The photo of ``row`` (an ``ItemResult``, or None), private to the browser; 404 when
    there is no row, no photo, or no such object in storage."""
    if row is None or not row.photo:
        raise Http404
    try:
        handle = default_storage.open(row.photo)
    except OSError as exc:
        raise Http404 from exc
    content_type = mimetypes.guess_type(row.photo)[0] or "application/octet-stream"
    response = FileResponse(handle, content_type=content_type)
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response
