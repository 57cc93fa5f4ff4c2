"""A full disk.

The media directory of the web server is a small tmpfs of the test's own (mounted here:
the tests run as root), filled to the last byte: a report with a photo gets 503 and a
sentence in the user's language, no case and no partial file; a report without one is
still accepted; once space is freed photos are kept again.

PostgreSQL's data directory: a cluster of the test's own (initdb, run as the machine's
``postgres`` user) on a tmpfs, with a copy of the test database (pg_dump | pg_restore, a
few seconds), the web server pointed at it. With the disk full, a report whose rows need
new pages fails its statement (SQLSTATE 53100, the transaction rolls back): 503 and the
sentence for a full database disk, no case. Freeing space is enough: the same server
serves again. (The WAL is switched to a fresh segment first: a full disk while
PostgreSQL needs a new WAL segment is a PANIC, and the server does not come back until
space is freed — the runbook says so.)
"""

from __future__ import annotations

import errno
import os
import secrets
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg
import pytest
from django_tenants.utils import tenant_context

from civicgrid.platform.cases.models import Attachment, Case
from tests.conftest import database_url, free_port

from .conftest import a_photo, discard_cases, report_over_http, unique_title

pytestmark = [pytest.mark.faults, pytest.mark.slow]
PREFIX = "故障演练磁盘"
DB_PREFIX = "故障演练数据库磁盘"


def mount_tmpfs(directory: Path, size: str) -> None:
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(directory)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.strip()}): run the fault tests as root")


@pytest.fixture
def small_disk(tmp_path):
    """A data directory whose media folder is a 1 MB tmpfs."""
    data = tmp_path / "data"
    media = data / "media"
    media.mkdir(parents=True)
    mount_tmpfs(media, "1m")
    try:
        yield data
    finally:
        subprocess.run(["umount", "-l", str(media)], check=False)


@pytest.fixture
def postgres_on_a_small_disk(tmp_path, committed):
    """(URL of a copy of the test database, the disk) in a cluster of our own on a tmpfs."""
    initdb = shutil.which("initdb")
    if os.geteuid() != 0 or initdb is None or not _has_user("postgres"):
        pytest.skip("needs root (to mount and to run PostgreSQL as its own user, postgres) and the server's initdb")
    bindir = Path(initdb).resolve().parent
    # Outside pytest's temporary directory, which the postgres user may not enter.
    home = Path(tempfile.mkdtemp(prefix="civicgrid-faults-pg-"))
    disk, log = home / "disk", home / "postgres.log"
    disk.mkdir()
    mount_tmpfs(disk, "240m")
    as_postgres = ["runuser", "-u", "postgres", "--"]
    data, port = disk / "data", free_port()
    try:
        for path in (home, disk):
            shutil.chown(path, "postgres")
        run([*as_postgres, str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync",
             "-E", "UTF8", "--locale=C"])
        run([*as_postgres, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "start", "-o",
             f"-p {port} -k {disk} -c listen_addresses=127.0.0.1 -c fsync=off"])
        server = f"postgresql://postgres@127.0.0.1:{port}"
        dump = tmp_path / "test.dump"
        run(["pg_dump", "-Fc", "-f", str(dump), database_url()])
        run(["psql", f"{server}/postgres", "-qc", "CREATE DATABASE copy"])
        run(["pg_restore", "--no-owner", "-d", f"{server}/copy", str(dump)])
        # A fresh WAL segment with room for the test: needing a new one on a full disk is a PANIC.
        run(["psql", f"{server}/copy", "-qc", "CHECKPOINT", "-c", "SELECT pg_switch_wal()", "-c", "CHECKPOINT"])
        yield f"{server}/copy", disk
    finally:
        subprocess.run([*as_postgres, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True)
        subprocess.run(["umount", "-l", str(disk)], check=False)
        shutil.rmtree(home, ignore_errors=True)


def _has_user(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True)
    assert done.returncode == 0, f"{command[0]} … failed: {done.stdout[-2000:]}{done.stderr[-2000:]}"


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


def test_with_the_database_disk_full_a_report_gets_503_and_nothing_half_written(stack, postgres_on_a_small_disk):
    url, disk = postgres_on_a_small_disk
    web = stack.web(DATABASE_URL=url)
    assert report_over_http(web.port, unique_title(DB_PREFIX)).status_code == 201
    filler = fill(disk)
    # Rows that need new pages (a long description, which does not compress): the table must grow.
    long_text = secrets.token_urlsafe(400_000)
    refused_title = unique_title(DB_PREFIX)
    refused = report_over_http(web.port, refused_title, description=long_text, language="en")
    assert refused.status_code == 503, refused.text
    assert refused.json() == {"detail": "The database's disk is full, so nothing was saved. Please tell the "
                                        "operators; try again later."}
    assert "No space left on device" in web.log()

    filler.unlink()
    again = report_over_http(web.port, unique_title(DB_PREFIX), description=long_text)
    assert again.status_code == 201, again.text  # the same server, without a restart

    with psycopg.connect(url) as conn:
        conn.execute("SET search_path TO shangcheng")
        assert conn.execute("SELECT count(*) FROM cases_case WHERE title = %s", [refused_title]).fetchone() == (0,)
        kept = conn.execute("SELECT id FROM cases_case WHERE title LIKE %s", [f"{DB_PREFIX}%"]).fetchall()
        assert len(kept) == 2
        for (case_id,) in kept:  # never half-written: each with its timeline entry and its event
            assert conn.execute("SELECT count(*) FROM cases_caseevent WHERE case_id = %s AND action = 'report'",
                                [case_id]).fetchone() == (1,)
            assert conn.execute("SELECT count(*) FROM notifications_outboxevent WHERE payload->>'case_id' = %s",
                                [str(case_id)]).fetchone() == (1,)
