"""`civicgrid registry import`, run as a user runs it (a child process on the test database)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext
from django_tenants.utils import tenant_context

from civicgrid.platform.audit.models import AuditEntry
from civicgrid.platform.registry import protection
from civicgrid.platform.registry.imports import actions
from civicgrid.platform.registry.imports.models import ImportBatch
from civicgrid.platform.registry.models import Person
from tests.conftest import child_env

from .helpers import csv_bytes, people, write

pytestmark = pytest.mark.slow

MAP = ["--map", "姓名=name", "--map", "身份证号=id_number", "--map", "手机号=phone", "--map", "现住址=actual_address",
       "--map", "网格编码=grid_code"]


def civicgrid(*args):
    return subprocess.run([sys.executable, "-m", "civicgrid.cli", "registry", "import", *args],
                          env=child_env(), capture_output=True, text=True, timeout=180)


def said(message: str, **params) -> str:
    """A message as the command says it: in the installation's language."""
    with translation.override(settings.LANGUAGE_CODE):
        return gettext(message) % params if params else gettext(message)


@pytest.fixture
def cleanup(committed):
    """Persons and batches the command creates are committed: remove them afterwards."""
    made: list[str] = []
    with tenant_context(committed.shangcheng):
        known = set(ImportBatch.objects.values_list("pk", flat=True))
    yield made
    with tenant_context(committed.shangcheng):
        Person.objects.filter(id_number_index__in=[protection.blind_index(n, "id") for n in made]).delete()
        for batch in ImportBatch.objects.exclude(pk__in=known):
            actions.discard_batch(staff=None, batch=batch)


def test_the_command_imports_prints_counts_and_writes_the_report(committed, cleanup, tmp_path):
    rows = people(40, seed=301)
    cleanup.extend(r[1] for r in rows)
    path = write(tmp_path, "公安户籍.csv", csv_bytes(rows, encoding="gbk"))
    done = civicgrid("--tenant", "shangcheng", "--file", str(path), "--department", "D-PSB", *MAP,
                     "--as", "shangcheng_admin", "--report-dir", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    assert "total=40 bad=0 new=40 updated=0 unchanged=0 conflicting=0" in done.stdout
    assert "100%" in done.stderr  # tqdm draws on stderr
    prefix = said("report: %(path)s", path="")
    reports = [line[len(prefix):] for line in done.stdout.splitlines() if line.startswith(prefix)]
    assert [p.rsplit(".", 1)[1] for p in reports] == ["xlsx", "csv"]
    text = (tmp_path / "out" / reports[1].rsplit("/", 1)[1]).read_bytes().decode("utf-8-sig")
    assert protection.mask_id_number(rows[0][1]) in text and rows[0][1] not in text
    with tenant_context(committed.shangcheng):
        assert Person.objects.filter(id_number_index__in=[protection.blind_index(r[1], "id") for r in rows],
                                     source="dept:D-PSB").count() == 40
        batch = ImportBatch.objects.order_by("-pk").first()
        assert batch.created_by_label == "shangcheng_admin" and batch.file_in_storage is False
        entry = AuditEntry.objects.get(action="registry.import_applied", target_id=str(batch.pk))
        assert entry.actor_label == "shangcheng_admin"

    again = civicgrid("--tenant", "330102", "--file", str(path), "--department", "D-PSB", "--no-progress",
                      "--report-dir", str(tmp_path / "out"))  # columns with well-known names map themselves
    assert again.returncode == 0, again.stderr
    assert "total=40 bad=0 new=0 updated=0 unchanged=40 conflicting=0" in again.stdout


def test_a_bad_file_exits_non_zero_applies_nothing_and_reports_every_row(committed, cleanup, tmp_path):
    rows = people(5, seed=302)
    cleanup.extend(r[1] for r in rows)
    rows[3][1] = rows[3][1][:10] + "1399" + rows[3][1][14:]  # month 13
    path = write(tmp_path, "bad.csv", csv_bytes(rows))
    done = civicgrid("--tenant", "shangcheng", "--file", str(path), "--department", "D-PSB", *MAP,
                     "--report-dir", str(tmp_path))
    assert done.returncode != 0
    assert "bad=1" in done.stdout
    assert said("Rejected: %(n)d bad rows; nothing was applied. The report lists every one.", n=1) in done.stderr
    report = next(tmp_path.glob("bad-import-*.csv")).read_text(encoding="utf-8-sig")
    assert said("The birth date in the ID number does not exist.") in report.splitlines()[4]
    with tenant_context(committed.shangcheng):
        assert not Person.objects.filter(id_number_index__in=[protection.blind_index(r[1], "id") for r in rows])


def test_refusals_are_clear_and_leave_nothing(committed, cleanup, tmp_path):
    with tenant_context(committed.shangcheng):
        before = ImportBatch.objects.count()
    path = write(tmp_path, "x.csv", csv_bytes(people(2, seed=303)))
    cases = [
        (["--tenant", "nowhere"], said("There is no tenant %(code)s.", code="nowhere")),
        (["--tenant", "shangcheng", "--department", "D-NONE"],
         said("There is no active department with the code %(code)s.", code="D-NONE")),
        (["--tenant", "shangcheng", "--as", "shangcheng_gridworker"],
         said("%(user)s is not a county admin or command-centre operator of this tenant.",
              user="shangcheng_gridworker")),
        (["--tenant", "shangcheng", "--map", "电话=phone"], said("The file has no column %(column)s.", column="电话")),
    ]
    for args, message in cases:
        options = {"--department": "D-PSB", "--file": str(path)}
        full = [*args]
        for option, value in options.items():
            if option not in full:
                full += [option, value]
        done = civicgrid(*full)
        assert done.returncode != 0 and message in done.stderr, (args, done.stderr)
    empty = write(tmp_path, "empty.csv", b"")
    done = civicgrid("--tenant", "shangcheng", "--file", str(empty), "--department", "D-PSB")
    assert done.returncode != 0 and said("The file is empty.") in done.stderr
    with tenant_context(committed.shangcheng):
        assert ImportBatch.objects.count() == before
