"""civicgrid registry verify, run as its own process against the committed test database."""

import subprocess
import sys

import pytest
from django_tenants.utils import tenant_context

from civicgrid.platform.accounts.actions import create_staff_member
from civicgrid.platform.accounts.models import User
from civicgrid.platform.accounts.staff.models import StaffProfile
from civicgrid.platform.audit.models import AuditEntry
from civicgrid.platform.org.models import OrgUnit
from civicgrid.platform.registry.actions import create_person
from civicgrid.platform.registry.models import Person
from civicgrid.platform.registry.protection import mask_id_number
from civicgrid.platform.registry.synthetic import persons as synthetic_persons
from civicgrid.platform.registry.verification.tabular import DEFAULT_HEADERS_HINT
from tests.conftest import child_env

from .files import csv_bytes, csv_cells, xlsx_cells

pytestmark = pytest.mark.slow
TOWNSHIP = "vf_cli_township"


@pytest.fixture
def registered(committed):
    """Two persons, in T01 and T02 of 上城区, and a township operator of T01, committed so
    the child process sees them; removed afterwards (their audit rows stay: append-only)."""
    people = list(synthetic_persons(3, region="330105", seed=6107))
    made = []
    try:
        with tenant_context(committed.shangcheng):
            admin = StaffProfile.objects.get(user__username="shangcheng_admin")
            for person, grid in zip(people[:2], ("T01-C01-G01", "T02-C01-G01"), strict=True):
                made.append(create_person(staff=admin, name=person.name, id_number=person.id_number,
                                          grid=OrgUnit.objects.get(code=grid), registered_address=person.address))
            create_staff_member(username=TOWNSHIP, password="x" * 12, role="township_operator",
                                scope_org_unit=OrgUnit.objects.get(code="T01"), acting_user=None)
        yield people
    finally:
        with tenant_context(committed.shangcheng):
            Person.objects.filter(pk__in=[p.pk for p in made]).delete()
            # In the tenant's schema, so the delete reaches the staff profile there too.
            User.objects.filter(username=TOWNSHIP).delete()


def verify(*args):
    return subprocess.run([sys.executable, "-m", "civicgrid.cli", "registry", "verify", "--tenant", "shangcheng",
                           *args], env=child_env(), capture_output=True, timeout=120)


def audit_rows(world) -> int:
    with tenant_context(world.shangcheng):
        return AuditEntry.objects.filter(action="registry.verified").count()


def test_cli_writes_masked_results(committed, registered, tmp_path):
    inside, other, unregistered = registered
    rows = [{"name": inside.name, "id_number": inside.id_number, "address": inside.address},
            {"name": other.name, "id_number": other.id_number, "address": "别处"},
            {"name": "某人", "id_number": unregistered.id_number, "address": "某地"},
            {"name": "某人", "id_number": "33010", "address": "某地"}]
    source = tmp_path / "list.csv"
    source.write_bytes(csv_bytes(rows, encoding="gbk"))
    before = audit_rows(committed)

    out = tmp_path / "result.xlsx"
    done = verify("--file", str(source), "--as", "shangcheng_operator", "--out", str(out))
    assert done.returncode == 0, done.stderr.decode()
    assert "consistent=1" in done.stdout.decode() and "invalid_id=1" in done.stdout.decode()
    cells = xlsx_cells(out.read_bytes())
    assert [c[5] for c in cells[1:]] == ["consistent", "different", "not_found", "invalid_id"]
    assert [c[2] for c in cells[1:4]] == [mask_id_number(p.id_number) for p in registered]
    assert not any(p.id_number in str(cell) for p in registered for row in cells for cell in row)

    # No --out: CSV on standard output. A township operator of T01 does not see T02's person.
    done = verify("--file", str(source), "--as", TOWNSHIP)
    assert done.returncode == 0, done.stderr.decode()
    printed = csv_cells(done.stdout)
    assert [c[5] for c in printed[1:]] == ["consistent", "not_found", "not_found", "invalid_id"]
    assert not any(p.id_number in done.stdout.decode() for p in registered)
    assert "4 rows" in done.stderr.decode()
    assert audit_rows(committed) == before + 2


def test_cli_refuses_what_the_page_refuses(committed, tmp_path):
    source = tmp_path / "list.csv"
    source.write_bytes(csv_bytes([{"name": "a", "id_number": "1", "address": ""}]))
    before = audit_rows(committed)
    for args, message in (
        (["--as", "shangcheng_gridworker"], "may not verify"),
        (["--as", "yuhang_operator"], "not an active staff member"),
    ):
        done = verify("--file", str(source), *args)
        assert done.returncode != 0 and message in done.stderr.decode()
    bad = tmp_path / "bad.csv"
    bad.write_bytes("名字,号码\n张三,1\n".encode())
    done = verify("--file", str(bad))
    # The message is in the default language; the usual headers it names are data, the same in any.
    assert done.returncode != 0 and DEFAULT_HEADERS_HINT in done.stderr.decode()
    assert audit_rows(committed) == before
