"""A report with photos answers without waiting for thumbnails: a real Celery worker
makes them after the commit, and the beat's backfill makes any whose task was lost
(the broker was down when the report came)."""

from __future__ import annotations

import io
import time
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone
from django_tenants.utils import tenant_context
from PIL import Image

from civicgrid.platform.cases import actions
from civicgrid.platform.cases.models import Attachment, Case, Source
from civicgrid.platform.cases.tasks import backfill_thumbnails_tenant, make_thumbnails
from civicgrid.platform.notifications.models import Notification, OutboxEvent
from tests.brokers import broker

from .test_workflow import IN_G01, staff

pytestmark = pytest.mark.slow


def photo(name="photo.jpg", size=(1200, 900)) -> io.BytesIO:
    out = io.BytesIO()
    Image.effect_noise(size, 30).convert("RGB").save(out, "JPEG", quality=85)
    out.seek(0)
    out.name = name
    return out


def report_with_photos(title: str, count: int = 2) -> Case:
    return actions.report_case(staff=staff("shangcheng_gridworker"), category="DSP-NEIGHBOUR", title=title,
                               source=Source.GRID_WORKER, photos=[photo(f"p{i}.jpg") for i in range(count)],
                               **IN_G01)


def discard(case: Case) -> None:
    for item in Attachment.objects.filter(case=case):
        for name in filter(None, (item.file, item.thumbnail)):
            default_storage.delete(name)
    Notification.objects.filter(case_id=case.pk).delete()
    OutboxEvent.objects.filter(payload__case_id=case.pk).delete()
    Case.objects.filter(pk=case.pk).delete()


def wait_for_thumbnails(case: Case, timeout: float = 30) -> list[Attachment]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        files = list(Attachment.objects.filter(case=case))
        if files and all(f.thumbnail for f in files):
            return files
        time.sleep(0.3)
    raise AssertionError("the worker made no thumbnails")


def test_the_worker_makes_the_thumbnails_after_the_report_is_committed(committed, celery_worker):
    with tenant_context(committed.shangcheng):
        case = report_with_photos("缩略图由后台生成")
        try:
            assert all(not f.thumbnail for f in Attachment.objects.filter(case=case))  # the answer did not wait
            files = wait_for_thumbnails(case)
            for item in files:
                with default_storage.open(item.thumbnail, "rb") as handle:
                    thumb = Image.open(io.BytesIO(handle.read()))
                assert thumb.format == "JPEG" and max(thumb.size) == 320
        finally:
            discard(case)


def test_thumbnails_lost_with_the_broker_are_made_by_the_backfill(committed, celery_worker):
    from tests.conftest import free_port

    with tenant_context(committed.shangcheng):
        with broker(f"redis://127.0.0.1:{free_port()}/0"):  # nothing listens there: the broker is down
            started = time.monotonic()
            case = report_with_photos("代理停机时带图上报", count=1)
            took = time.monotonic() - started
        try:
            assert took < 10, "the report waited for the unreachable broker"  # as without a photo
            item = Attachment.objects.get(case=case)
            assert not item.thumbnail
            backfill_thumbnails_tenant.run()
            item.refresh_from_db()
            assert not item.thumbnail  # younger than a minute: its task may still come
            Attachment.objects.filter(pk=item.pk).update(created_at=timezone.now() - timedelta(minutes=2))
            backfill_thumbnails_tenant.delay()  # what the beat sends every five minutes
            wait_for_thumbnails(case)
            # Twice, or by a late task: stored once, the row claimed once.
            assert make_thumbnails.run([item.pk]) == 0
            backfill_thumbnails_tenant.run()
            assert Attachment.objects.get(pk=item.pk).thumbnail == wait_for_thumbnails(case)[0].thumbnail
        finally:
            discard(case)
