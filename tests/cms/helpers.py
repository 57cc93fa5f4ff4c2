"""Shared by the community-site tests: sites made through the real action, residents
who confirm their phone through the real form (the code read from the server log)."""

from __future__ import annotations

import io
import itertools
import logging
import random
import re
from urllib.parse import unquote

from captcha.models import CaptchaStore
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django_tenants.utils import tenant_context
from PIL import Image

from civicgrid.cms import actions
from civicgrid.cms.models import CommunitySite

_addresses = itertools.count(1)


def resident(host: str) -> Client:
    """A browser of its own: rate limits count per address, so each test has a fresh one."""
    n = next(_addresses) + random.randrange(1, 200) * 1000
    return Client(HTTP_HOST=host, REMOTE_ADDR=f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}")


def new_phone() -> str:
    return f"139{random.randrange(10 ** 8):08d}"


def site(tenant, community_code: str, slug: str) -> CommunitySite:
    with tenant_context(tenant):
        found = CommunitySite.objects.filter(slug=slug).select_related("site").first()
        return found or actions.create_site(community_code=community_code, slug=slug, acting_staff=None)


def challenge_answer(html: str) -> dict:
    """The challenge's key from the form and its answer from the server's store (the
    test's oracle, as a person's eyes are for the picture)."""
    key = re.search(r'name="challenge_0" value="([0-9a-f]+)"', html).group(1)
    return {"challenge_0": key, "challenge_1": CaptchaStore.objects.get(hashkey=key).response}


class CodeLog(logging.Handler):
    def __init__(self):
        super().__init__()
        self.codes: list[str] = []

    def emit(self, record):
        found = re.search(r"one-time code for .*: (\d{6})", record.getMessage())
        if found:
            self.codes.append(found.group(1))


def sent_codes():
    handler = CodeLog()
    logging.getLogger("civicgrid.cms.phone").addHandler(handler)
    return handler


def confirm_phone(client: Client, phone: str, next_url: str = "/report/") -> None:
    log = sent_codes()
    try:
        form = client.get(f"/phone/?next={next_url}")
        assert form.status_code == 200, form.status_code
        sent = client.post("/phone/", {"step": "send", "phone": phone, "next": next_url,
                                       **challenge_answer(form.content.decode())})
        assert sent.status_code == 200 and log.codes, sent.content.decode()[:2000]
        confirmed = client.post("/phone/", {"step": "confirm", "phone": phone, "code": log.codes[-1],
                                            "next": next_url})
        assert confirmed.status_code == 302 and unquote(confirmed["Location"]) == next_url
    finally:
        logging.getLogger("civicgrid.cms.phone").removeHandler(log)


def jpeg(name="现场.jpg", size=(64, 48)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, (30, 120, 200)).save(buffer, "JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")
