"""``civicgrid migrate --check``: what an app container runs before it starts (Kubernetes'
init container), so no web or worker process serves a schema the migrate job has not
finished. It changes nothing and exits 1 naming the schemas behind."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from civicgrid.tenants.schemas import pending_migrations


def test_check_passes_when_every_schema_is_migrated(world):
    out = StringIO()
    call_command("migrate_all", "--check", stdout=out)
    assert "nothing pending in public, tenant_template and" in out.getvalue()


def test_check_names_a_schema_behind_and_migrates_nothing(world):
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM shangcheng.django_migrations WHERE app = 'cases' AND name = "
                       "(SELECT max(name) FROM shangcheng.django_migrations WHERE app = 'cases') RETURNING name")
        removed = cursor.fetchone()[0]
    with pytest.raises(CommandError, match=r"migrations pending in 1 schema\(s\): shangcheng") as refused:
        call_command("migrate_all", "--check", stdout=StringIO())
    assert refused.value.returncode == 1
    assert pending_migrations("shangcheng") == {("cases", removed)}  # still pending: the check applied nothing
