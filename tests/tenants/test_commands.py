"""The `civicgrid` command line, run as a user runs it (a child process on the test database)."""

import subprocess
import sys

import pytest

from civicgrid.tenants.models import Tenant
from tests.conftest import child_env
from tests.world import discard_tenant

pytestmark = pytest.mark.slow


def civicgrid(*args):
    return subprocess.run([sys.executable, "-m", "civicgrid.cli", *args], env=child_env(),
                           capture_output=True, text=True, timeout=120)


def test_migrate_with_nothing_pending_skips_every_schema(committed):
    done = civicgrid("migrate", "--no-progress")
    assert done.returncode == 0, done.stderr
    assert "migrated: nothing" in done.stdout


def test_list_shows_every_tenant(committed):
    done = civicgrid("tenants", "list")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split()[:3] == ["code", "name", "level"]
    assert any(line.startswith("330102") and "shangcheng.localhost" in line for line in lines)


def test_create_refuses_a_county_under_a_county_and_creates_nothing(committed):
    before = Tenant.objects.count()
    done = civicgrid("tenants", "create", "--name", "某县", "--division-code", "330113", "--level", "county",
                     "--parent", "330102", "--domain", "mou.localhost", "--here")
    assert done.returncode != 0
    assert "上级须为市" in done.stderr  # the command line speaks the installation's language
    assert Tenant.objects.count() == before


def test_create_onboards_with_a_progress_bar_and_prints_the_admin(committed):
    try:
        done = civicgrid("tenants", "create", "--name", "临平区", "--division-code", "330113", "--level", "county",
                         "--parent", "330100", "--domain", "linping.localhost", "--here")
        assert done.returncode == 0, done.stderr
        assert "onboarding 临平区" in done.stderr and "100%" in done.stderr  # tqdm draws on stderr
        assert "county admin: linping_admin  password: " in done.stdout
        assert Tenant.objects.get(division_code="330113").status == Tenant.Status.ACTIVE
        again = civicgrid("tenants", "create", "--name", "临平区", "--division-code", "330113", "--level", "county",
                          "--parent", "330100", "--domain", "linping.localhost", "--here")
        assert again.returncode == 0 and "already onboarded" in again.stdout
    finally:
        discard_tenant("330113")


def test_suspend_and_resume(committed):
    assert civicgrid("tenants", "suspend", "330110").returncode == 0
    assert Tenant.objects.get(division_code="330110").status == Tenant.Status.SUSPENDED
    assert civicgrid("tenants", "resume", "yuhang").returncode == 0
    assert Tenant.objects.get(division_code="330110").status == Tenant.Status.ACTIVE
    missing = civicgrid("tenants", "suspend", "999999")
    assert missing.returncode != 0 and "no tenant" in missing.stderr
