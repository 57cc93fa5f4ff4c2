"""The disk of the embedded data full: the media directory of the web server is a small
tmpfs of the test's own (mounted here: the tests run as root), filled to the last byte.
A report with a photo gets 503 and a sentence in the user's language, no case and no
partial file; a report without one is still accepted; once space is freed photos are
kept again.

PostgreSQL's data directory is not put on a full disk here: the machine's server is
shared, and a cluster of our own on a tmpfs would need the migrated test database
copied in. What PostgreSQL does is documented (a full disk fails the statement with
SQLSTATE 53100, the transaction rolls back) and answered with the same 503
(``security.outage.reason``).
"""

from __future__ import annotations

import errno
import subprocess
from pathlib import Path

import pytest
from django_tenants.utils import tenant_context

from civicgrid.platform.cases.models import Attachment, Case

from .conftest import a_photo, discard_cases, report_over_http, unique_title

pytestmark = [pytest.mark.faults, pytest.mark.slow]
PREFIX = "故障演练磁盘"


@pytest.fixture
def small_disk(tmp_path):
    """A data directory whose media folder is a 1 MB tmpfs."""
    data = tmp_path / "data"
    media = data / "media"
    media.mkdir(parents=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,mode=0755", "tmpfs", str(media)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.strip()}): run the fault tests as root")
    try:
        yield data
    finally:
        subprocess.run(["umount", "-l", str(media)], check=False)


def fill(directory: Path) -> Path:
    """Write until the disk refuses another byte."""
    filler = directory / "filler.bin"
    with open(filler, "wb", buffering=0) as out:
        try:
            while True:
                out.write(b"\0" * 4096)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    return filler


def files_under(directory: Path) -> set[Path]:
    return {p for p in directory.rglob("*") if p.is_file()}


def test_with_the_media_disk_full_a_photo_report_is_refused_clearly_and_nothing_is_half_kept(
        stack, committed, small_disk):
    world = committed
    media = small_disk / "media"
    web = stack.web(CIVICGRID_DATA_DIR=str(small_disk))
    photo = a_photo()
    try:
        assert report_over_http(web.port, unique_title(PREFIX), photo=photo).status_code == 201
        filler = fill(media)
        before = files_under(media)

        refused_title = unique_title(PREFIX)
        refused = report_over_http(web.port, refused_title, photo=photo, language="en")
        assert refused.status_code == 503, refused.text
        assert refused.json() == {"detail": "The file store is full, so the file was not kept and nothing was "
                                            "saved. Please tell the operators; try again later."}
        assert files_under(media) == before, "a partial file was left on the full disk"
        assert report_over_http(web.port, unique_title(PREFIX)).status_code == 201  # reports go on

        filler.unlink()
        assert report_over_http(web.port, refused_title, photo=photo).status_code == 201

        with tenant_context(world.shangcheng):
            assert Case.objects.filter(title=refused_title).count() == 1  # the retry, not the refused one
            cases = Case.objects.filter(title__startswith=PREFIX)
            assert cases.count() == 3
            attachments = list(Attachment.objects.filter(case__in=cases))
            assert len(attachments) == 2
            for attachment in attachments:  # never a case pointing at a missing or cut file
                stored = media / "tenants" / "shangcheng" / attachment.file
                assert stored.stat().st_size == attachment.size
    finally:
        discard_cases(world, PREFIX)
