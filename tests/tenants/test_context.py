"""Tenant context outside requests: cache keys and object-storage keys."""

import sys
import urllib.request

import pytest
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django_tenants.utils import tenant_context

from civicgrid.platform.files.storage import TenantS3Storage, tenant_key
from tests.conftest import free_port, running


def test_cache_keys_carry_the_schema(world):
    with tenant_context(world.shangcheng):
        cache.set("dashboard", "shangcheng figures")
        shangcheng_key = cache.make_key("dashboard")
    with tenant_context(world.yuhang):
        assert cache.get("dashboard") is None
        cache.set("dashboard", "yuhang figures")
        yuhang_key = cache.make_key("dashboard")
    with tenant_context(world.shangcheng):
        assert cache.get("dashboard") == "shangcheng figures"
    assert shangcheng_key.startswith("shangcheng:") and yuhang_key.startswith("yuhang:")
    with tenant_context(world.shangcheng):
        cache.delete("dashboard")
    with tenant_context(world.yuhang):
        cache.delete("dashboard")


def test_files_on_disk_live_under_the_tenants_prefix(world):
    names = {}
    for tenant in (world.shangcheng, world.yuhang):
        with tenant_context(tenant):
            names[tenant.schema_name] = default_storage.save("photos/report.txt", ContentFile(tenant.name.encode()))
            assert f"/tenants/{tenant.schema_name}/photos/" in default_storage.path(names[tenant.schema_name])
    for tenant in (world.shangcheng, world.yuhang):
        with tenant_context(tenant):
            with default_storage.open(names[tenant.schema_name]) as stored:
                assert stored.read().decode() == tenant.name
            default_storage.delete(names[tenant.schema_name])


@pytest.fixture(scope="module")
def s3_endpoint():
    """moto's S3 API server on loopback."""
    port = free_port()
    with running([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], port=port, env=None):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10).read()
        yield f"http://127.0.0.1:{port}"


def test_object_storage_keys_start_with_the_tenant(world, s3_endpoint):
    storage = TenantS3Storage(endpoint=s3_endpoint, access_key="test", secret_key="testtest", bucket="civicgrid-test",
                              secure=False)
    for tenant in (world.shangcheng, world.yuhang):
        with tenant_context(tenant):
            assert storage.save("photos/report.txt", ContentFile(tenant.name.encode())) == "photos/report.txt"
            assert tenant_key("photos/report.txt") == f"tenants/{tenant.schema_name}/photos/report.txt"
    keys = sorted(o.object_name for o in storage.client.list_objects("civicgrid-test", recursive=True))
    assert keys == ["tenants/shangcheng/photos/report.txt", "tenants/yuhang/photos/report.txt"]
    for tenant in (world.shangcheng, world.yuhang):
        with tenant_context(tenant):
            assert storage.open("photos/report.txt").read().decode() == tenant.name
            assert storage.exists("photos/report.txt") and storage.size("photos/report.txt") == len(tenant.name.encode())
    with tenant_context(world.yuhang):
        storage.delete("photos/report.txt")
        assert not storage.exists("photos/report.txt")
    with tenant_context(world.shangcheng):
        assert storage.exists("photos/report.txt")


def test_tenant_data_with_no_tenant_set_fails_loudly(world):
    from django.db import connection, transaction
    from django.db.utils import ProgrammingError

    from civicgrid.platform.accounts.staff.models import StaffProfile

    connection.set_schema_to_public()
    with pytest.raises(ProgrammingError, match="staff_staffprofile"), transaction.atomic():
        StaffProfile.objects.count()
