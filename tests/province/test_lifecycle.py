"""Export, restore and offboarding of a tenant, against the real database, pg_dump and storage.

The tenants here are onboarded and populated through the actions (committed: pg_dump reads
from its own connection) and discarded at the end of each test."""

from __future__ import annotations

import hashlib
import io
import json
import sys
import tarfile
import urllib.request
from datetime import timedelta

import pytest
from django.contrib.auth.hashers import make_password
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django.utils import timezone, translation
from django_tenants.utils import tenant_context
from PIL import Image

from civicgrid.platform.accounts.actions import create_staff_member
from civicgrid.platform.accounts.models import User
from civicgrid.platform.accounts.staff.models import StaffProfile
from civicgrid.platform.audit.models import AuditEntry
from civicgrid.platform.cases import actions as case_actions
from civicgrid.platform.org.demo import build_demo_tree
from civicgrid.platform.org.models import Department, OrgUnit
from civicgrid.platform.registry.models import Person
from civicgrid.province import archive, lifecycle, offboarding
from civicgrid.province.demo import STAFF, add_default_departments, seed_demo_cases, seed_demo_people
from civicgrid.province.models import TenantOffboarding
from civicgrid.province.onboarding import onboard_tenant, resume_tenant
from civicgrid.search.indexing import reindex
from civicgrid.search.selectors import search_cases
from civicgrid.tenants.models import Domain, Tenant
from tests.conftest import free_port, running
from tests.tenants.test_http_isolation import signed_in
from tests.world import PASSWORD, discard_tenant

ROUTES_COVERED = {"offboard": "test_only_the_provincial_admin_offboards"}


def jpeg(colour) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(buffer, "JPEG")
    return SimpleUploadedFile("现场.jpg", buffer.getvalue(), content_type="image/jpeg")


def populated_county(code: str, sub: str, name: str) -> Tenant:
    hashed = make_password(PASSWORD)
    tenant = onboard_tenant(name=name, division_code=code, level="county", parent_code="330100",
                            domain=f"{sub}.localhost", admin_password_hash=hashed, acting_user=None).tenant
    with tenant_context(tenant):
        tree = build_demo_tree(center=(119.72, 30.23))
        add_default_departments(tree)
        for suffix, role, scope_code, _title in STAFF:
            scope = tree.get(scope_code)
            create_staff_member(username=f"{tenant.schema_name}_{suffix}", password_hash=hashed, role=role,
                                scope_org_unit=scope if isinstance(scope, OrgUnit) else None,
                                scope_department=scope if isinstance(scope, Department) else None,
                                acting_user=None)
        seed_demo_people(tenant, tree)
        seed_demo_cases(tenant, tree)
        worker = StaffProfile.objects.get(user__username=f"{tenant.schema_name}_gridworker")
        corner = tree["T01-C01-G01"].boundary["coordinates"][0][0]
        for colour in ((200, 40, 30), (30, 200, 40)):
            case_actions.report_case(staff=worker, category="DSP-NEIGHBOUR", title="楼道堆物漏水", source="grid_worker",
                                     latitude=corner[1] + 0.004, longitude=corner[0] + 0.004,
                                     photos=[jpeg(colour)])
        reindex()  # the search documents, as the indexer would have written them
        settle()
    connection.set_schema_to_public()
    return tenant


def settle(timeout: float = 30) -> None:
    """Do now what a worker does after these commits (relay, index, thumbnails), and wait until a
    worker that other tests left running has nothing left to do here: the archive and the
    comparisons after it must see one state."""
    import time

    from civicgrid.platform.cases.attachments import missing_thumbnails
    from civicgrid.platform.cases.tasks import make_thumbnails
    from civicgrid.platform.notifications.models import OutboxEvent
    from civicgrid.search.models import IndexQueue
    from tests.search.helpers import index_now

    deadline = time.monotonic() + timeout
    while True:
        index_now()
        make_thumbnails.run([a.pk for a in missing_thumbnails()])
        busy = (OutboxEvent.objects.filter(delivered_at__isnull=True).exists() or IndexQueue.objects.exists()
                or missing_thumbnails().exists())
        if not busy or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    time.sleep(1)  # a worker's late duplicate thumbnail is removed by the worker itself


def stored_files(tenant: Tenant) -> dict[str, str]:
    with tenant_context(tenant):
        return {name: hashlib.sha256(default_storage.open(name).read()).hexdigest()
                for name in archive.walk_storage(default_storage)}


def remove_files(tenant: Tenant) -> None:
    with tenant_context(tenant):
        for name in archive.walk_storage(default_storage):
            default_storage.delete(name)


def found_numbers(tenant: Tenant, text: str) -> list[str]:
    with tenant_context(tenant):
        staff = StaffProfile.objects.select_related("user").get(user__username__endswith="_operator",
                                                                 role="command_operator")
        return sorted(found.case.number for found in search_cases(staff, text).found)


def rewrite_manifest(source, target, change) -> None:
    """A copy of an archive with its manifest changed (what a tampered or foreign one looks like)."""
    with tarfile.open(source) as old, tarfile.open(target, "w:") as new:
        for member in old.getmembers():
            data = old.extractfile(member).read()
            if member.name == archive.MANIFEST:
                manifest = json.loads(data)
                change(manifest)
                data = json.dumps(manifest).encode()
                member.size = len(data)
            new.addfile(member, io.BytesIO(data))


@pytest.fixture
def linan(committed):
    tenant = populated_county("330181", "linan", "临安区")
    yield tenant
    for code in ("330182", "330181"):  # the copy first: its staff share the original's accounts
        connection.set_schema_to_public()
        gone = Tenant.objects.filter(division_code=code).first()
        if gone:
            remove_files(gone)
            discard_tenant(code)


def test_export_then_restore_as_a_new_schema_is_equal_in_every_table(linan, tmp_path):
    call_command("tenants", "export", "--tenant", "330181", "--to", str(tmp_path))
    [path] = tmp_path.glob("linan-330181-*.tar")
    exported = archive.Archive.open(path)
    manifest = exported.manifest
    exported.close()
    assert (tmp_path / f"{path.name}.sha256").read_text().split()[0] == archive.sha256_of(path)
    assert manifest["tenant"]["division_code"] == "330181" and manifest["domains"][0]["domain"] == "linan.localhost"
    assert manifest["tables"]["cases_case"]["rows"] == 7 and manifest["tables"]["registry_person"]["rows"] == 48
    assert {f["name"]: f["sha256"] for f in manifest["files"]} == stored_files(linan) != {}

    call_command("tenants", "restore", "--from", str(path), "--as", "linan_copy", "--domain", "linan-copy.localhost",
                 "--division-code", "330182")
    copy = Tenant.objects.get(schema_name="linan_copy")
    assert copy.status == Tenant.Status.ACTIVE and copy.division_code == "330182" and copy.name == "临安区"

    # Every table: the same rows (count and a checksum over every column), the archive's too.
    original, restored = archive.schema_figures("linan"), archive.schema_figures("linan_copy")
    assert restored == original == manifest["tables"]
    assert sum(f["rows"] for t, f in original.items() if t.startswith("search_casedocument_")) == 7
    assert stored_files(copy) == stored_files(linan)
    assert found_numbers(copy, "漏水") == found_numbers(linan, "漏水") != []
    with tenant_context(linan):
        clear = {p.pk: (p.id_number(), p.phone()) for p in Person.objects.all()}
    with tenant_context(copy):
        assert {p.pk: (p.id_number(), p.phone()) for p in Person.objects.all()} == clear
    assert Client(HTTP_HOST="linan-copy.localhost").get("/api/v1/health/").json()["tenant"] == "linan_copy"
    connection.set_schema_to_public()
    assert AuditEntry.objects.filter(action="tenant.restored", target_id=str(copy.pk)).exists()


def test_restore_refuses_an_existing_schema_and_other_migrations_changing_nothing(linan, tmp_path):
    result = lifecycle.export_tenant(tenant=linan, to=tmp_path / "linan.tar", acting_user=None)
    tenants_before = Tenant.objects.count()
    with translation.override("en"):  # the refusals are matched in English (Chinese by default)
        with pytest.raises(CommandError, match="already exists"):
            call_command("tenants", "restore", "--from", str(result.path), "--as", "linan", "--domain",
                         "linan-2.localhost", "--division-code", "330182")
        foreign = tmp_path / "foreign.tar"
        rewrite_manifest(result.path, foreign, lambda m: m["migrations"].pop())
        with pytest.raises(lifecycle.RestoreRefused, match="migrations differ"):
            lifecycle.restore_tenant(source=foreign, schema="linan_copy", domain="linan-copy.localhost",
                                     division_code="330182", acting_user=None)
        damaged = tmp_path / "damaged.tar"
        rewrite_manifest(result.path, damaged, lambda m: m["tables"]["cases_case"].update(rows=99))
        with pytest.raises(lifecycle.RestoreRefused, match="differ from the archive"):
            lifecycle.restore_tenant(source=damaged, schema="linan_copy", domain="linan-copy.localhost",
                                     division_code="330182", acting_user=None)
    assert Tenant.objects.count() == tenants_before
    assert not Domain.objects.filter(domain="linan-copy.localhost").exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = 'linan_copy'")
        assert cursor.fetchone() is None
    with tenant_context(Tenant(schema_name="linan_copy")):
        assert list(archive.walk_storage(default_storage)) == []


def untouched_figures(world) -> dict:
    return {t.schema_name: archive.schema_figures(t.schema_name) for t in (world.shangcheng, world.yuhang)}


def test_offboarding_suspends_archives_and_purges_after_the_grace_period(linan, tmp_path, settings):
    settings.CIVICGRID_BACKUP_DIR = str(tmp_path)
    others = untouched_figures(pytest.world)
    staff_accounts = set(User.objects.filter(home_tenant=linan).values_list("username", flat=True))
    call_command("tenants", "offboard", "--tenant", "330181", "--grace-days", "30", "--reason", "行政区划调整")
    linan.refresh_from_db()
    pending = TenantOffboarding.objects.get(tenant=linan)
    assert linan.status == Tenant.Status.SUSPENDED and pending.status == TenantOffboarding.Status.PENDING
    assert timedelta(days=29, hours=23) < pending.due_at - timezone.now() <= timedelta(days=30)
    assert archive.sha256_of(tmp_path / pending.archive_name) == pending.archive_sha256
    assert Client(HTTP_HOST="linan.localhost").get("/api/v1/health/").status_code != 200

    call_command("tenants", "purge-due")  # not due yet
    assert Tenant.objects.filter(pk=linan.pk).exists()

    TenantOffboarding.objects.filter(pk=pending.pk).update(due_at=timezone.now() - timedelta(minutes=1))
    call_command("tenants", "purge-due")
    tombstone = TenantOffboarding.objects.get(pk=pending.pk)
    assert tombstone.status == TenantOffboarding.Status.PURGED and tombstone.tenant is None
    assert (tombstone.division_code, tombstone.name, tombstone.archive_sha256) == ("330181", "临安区",
                                                                                   pending.archive_sha256)
    assert not Tenant.objects.filter(division_code="330181").exists()
    assert not Domain.objects.filter(domain="linan.localhost").exists()
    assert not User.objects.filter(username__in=staff_accounts).exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                       "WHERE n.nspname = 'linan'")
        assert cursor.fetchone()[0] == 0
        cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = 'linan'")
        assert cursor.fetchone() is None
    assert stored_files(Tenant(schema_name="linan")) == {}
    actions = set(AuditEntry.objects.filter(action__startswith="offboard.").filter(
        data__archive=pending.archive_name).values_list("action", flat=True))
    assert actions == {"offboard.export", "offboard.purge"}
    assert AuditEntry.objects.filter(action="offboard.start", target_id=str(linan.pk)).exists()
    assert untouched_figures(pytest.world) == others

    # The archive brings it back, accounts and all, under its old name.
    lifecycle.restore_tenant(source=tmp_path / pending.archive_name, schema="linan", domain="linan.localhost",
                             acting_user=None)
    assert set(User.objects.filter(home_tenant__schema_name="linan").values_list("username", flat=True)) == \
        staff_accounts
    assert found_numbers(Tenant.objects.get(schema_name="linan"), "漏水") != []
    assert signed_in(pytest.world, "linan_operator", "linan.localhost").get("/").status_code == 200


def test_resuming_during_the_grace_period_cancels_the_deletion(linan, tmp_path, settings):
    settings.CIVICGRID_BACKUP_DIR = str(tmp_path)
    record = offboarding.offboard_tenant(tenant=linan, grace_days=0, reason="", acting_user=None)
    resume_tenant(tenant=linan, acting_user=None)
    record.refresh_from_db()
    assert record.status == TenantOffboarding.Status.CANCELLED
    assert offboarding.purge_due(acting_user=None, now=timezone.now() + timedelta(days=1)) == []
    linan.refresh_from_db()
    assert linan.status == Tenant.Status.ACTIVE
    assert AuditEntry.objects.filter(action="offboard.cancel", target_id=str(linan.pk)).exists()


@pytest.mark.parametrize("username, host", [
    ("prov_supervisor", "localhost"), ("shangcheng_admin", "localhost"), ("prov_admin", "shangcheng.localhost"),
])
def test_only_the_provincial_admin_offboards(world, username, host):
    response = signed_in(world, username, host).post(
        "/province/tenants/330110/offboard/", {"grace_days": 30, "reason": "test", "confirm": "on"})
    assert response.status_code == 404
    assert Tenant.objects.get(division_code="330110").status == Tenant.Status.ACTIVE
    assert not TenantOffboarding.objects.exists()


def test_the_provincial_admin_offboards_from_the_province_page(world):
    client = signed_in(world, "prov_admin", "localhost")
    refused = client.post("/province/tenants/330110/offboard/", {"grace_days": -1, "reason": ""})
    assert refused.status_code == 302
    assert Tenant.objects.get(division_code="330110").status == Tenant.Status.ACTIVE
    done = client.post("/province/tenants/330110/offboard/", {"grace_days": 30, "reason": "合并", "confirm": "on"})
    assert done.status_code == 302
    assert Tenant.objects.get(division_code="330110").status == Tenant.Status.SUSPENDED  # the archive: a task
    page = client.get("/province/").content.decode()
    assert "/province/tenants/330102/offboard/" in page


@pytest.fixture
def s3_endpoint():
    """moto's S3 API server on loopback, as tests/tenants/test_context.py starts it."""
    port = free_port()
    with running([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], port=port, env=None):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10).read()
        yield f"http://127.0.0.1:{port}"


def test_files_in_object_storage_are_archived_and_restored_under_the_new_prefix(committed, s3_endpoint, tmp_path,
                                                                                  settings):
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "civicgrid.platform.files.storage.TenantS3Storage",
        "OPTIONS": {"endpoint": s3_endpoint, "access_key": "test", "secret_key": "testtest",
                    "bucket": "civicgrid-lifecycle", "secure": False}}}
    hashed = make_password(PASSWORD)
    tenant = onboard_tenant(name="桐庐县", division_code="330183", level="county", parent_code="330100",
                            domain="tonglu.localhost", admin_password_hash=hashed, acting_user=None).tenant
    try:
        with tenant_context(tenant):
            default_storage.save("photos/2026/现场.jpg", jpeg((10, 20, 30)))
            default_storage.save("audit/archive.jsonl", io.BytesIO(b'{"row": 1}\n'))
        result = lifecycle.export_tenant(tenant=tenant, to=tmp_path, acting_user=None)
        assert {f["name"] for f in result.manifest["files"]} == {"photos/2026/现场.jpg", "audit/archive.jsonl"}
        copy = lifecycle.restore_tenant(source=result.path, schema="tonglu_copy", domain="tonglu-copy.localhost",
                                        division_code="330184", acting_user=None)
        assert stored_files(copy) == stored_files(tenant) != {}
        keys = {o.object_name for o in default_storage.client.list_objects("civicgrid-lifecycle", recursive=True)}
        assert {"tenants/tonglu_copy/photos/2026/现场.jpg", "tenants/tonglu/photos/2026/现场.jpg"} <= keys
    finally:
        for code in ("330184", "330183"):
            connection.set_schema_to_public()
            gone = Tenant.objects.filter(division_code=code).first()
            if gone:
                remove_files(gone)
                discard_tenant(code)
