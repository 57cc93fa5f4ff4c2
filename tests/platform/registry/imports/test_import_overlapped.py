"""Big files: rows applied chunk by chunk while later chunks are still being
read (a staging thread on its own connection, worker processes, and for a
first import the person table's secondary indexes rebuilt at the end).

The thresholds are lowered so a few hundred rows take the big-file path. The
staging connection commits, so these tests run without a test transaction, in
a county of their own that is dropped afterwards.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import make_password
from django.db import connection, connections
from django_tenants.utils import tenant_context

from civicgrid.platform.org.demo import build_demo_tree
from civicgrid.platform.registry import protection
from civicgrid.platform.registry.imports import bulk, pipeline, reading
from civicgrid.platform.registry.imports.models import ImportBatch, ImportRow
from civicgrid.platform.registry.models import Person
from civicgrid.province.onboarding import onboard_tenant
from tests.world import discard_tenant

from .helpers import csv_bytes, import_file, people, write

CODE = "330105"


@pytest.fixture
def county(committed, monkeypatch):
    discard_tenant(CODE)
    tenant = onboard_tenant(name="拱墅区", division_code=CODE, level="county", parent_code="330100",
                            domain="gongshu.localhost", admin_password_hash=make_password("x"),
                            acting_user=None).tenant
    with tenant_context(tenant):
        build_demo_tree(center=(120.15, 30.32))
    monkeypatch.setattr(pipeline, "POOL_MIN_BYTES", 0)  # every file is "big"
    monkeypatch.setattr(reading, "BLOCK_BYTES", 4096)  # ~40 rows a chunk
    try:
        with tenant_context(tenant):
            yield tenant
    finally:
        connection.set_schema_to_public()
        discard_tenant(CODE)


def person_table_schema() -> tuple:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
                       "AND tablename = %s ORDER BY indexname", [pipeline.PERSONS])
        indexes = cursor.fetchall()
        cursor.execute("SELECT conname, pg_get_constraintdef(oid), condeferrable, condeferred FROM pg_constraint "
                       "WHERE conrelid = %s::regclass ORDER BY conname", [pipeline.PERSONS])
        return indexes, cursor.fetchall()


def ids(rows) -> set[str]:
    return {protection.blind_index(row[1], "id") for row in rows}


def test_a_first_import_rebuilds_the_indexes_and_leaves_the_schema_as_it_was(county, tmp_path, monkeypatch):
    monkeypatch.setattr(bulk, "BULK_MIN_ROWS", 100)
    rebuilt, real_restore = [], bulk.SecondaryIndexes.restore

    def restore(self):
        rebuilt.extend(name for name, _definition in self.indexes + self.constraints)
        real_restore(self)

    monkeypatch.setattr(bulk.SecondaryIndexes, "restore", restore)
    before = person_table_schema()
    rows = people(600, seed=301)
    batch = import_file(write(tmp_path, "big.csv", csv_bytes(rows)), by=None)

    assert batch.status == ImportBatch.Status.APPLIED, batch.error
    assert batch.new_rows == 600 and batch.total_rows == 600
    assert set(Person.objects.values_list("id_number_index", flat=True)) == ids(rows)
    assert {"person_phone_index", "person_id_number_index_unique"} <= set(rebuilt)
    assert any("_fk_" in name for name in rebuilt)
    assert person_table_schema() == before


def test_a_file_smaller_than_the_registry_keeps_the_indexes_in_place(county, tmp_path, monkeypatch):
    monkeypatch.setattr(bulk, "BULK_MIN_ROWS", 100)
    import_file(write(tmp_path, "first.csv", csv_bytes(people(300, seed=302))), by=None)
    dropped = []
    monkeypatch.setattr(bulk.SecondaryIndexes, "drop", lambda self: dropped.append(1) or False)
    second = people(150, seed=303)
    batch = import_file(write(tmp_path, "second.csv", csv_bytes(second)), by=None)

    assert batch.status == ImportBatch.Status.APPLIED and batch.new_rows == 150
    assert not dropped
    assert Person.objects.count() == 450


def test_again_with_the_big_file_path_changes_nothing(county, tmp_path):
    path = write(tmp_path, "big.csv", csv_bytes(people(400, seed=304)))
    import_file(path, by=None)
    stamps = sorted(Person.objects.values_list("id", "updated_at"))
    again = import_file(path, by=None)

    assert again.status == ImportBatch.Status.APPLIED
    assert (again.new_rows, again.unchanged_rows) == (0, 400)
    assert sorted(Person.objects.values_list("id", "updated_at")) == stamps


def test_a_bad_row_near_the_end_leaves_nothing_applied_and_every_row_staged(county, tmp_path, monkeypatch):
    monkeypatch.setattr(bulk, "BULK_MIN_ROWS", 100)
    before = person_table_schema()
    rows = people(500, seed=305)
    rows[480][1] = "330102199001011235"  # wrong check digit
    batch = import_file(write(tmp_path, "bad.csv", csv_bytes(rows)), by=None)

    assert batch.status == ImportBatch.Status.REJECTED
    assert Person.objects.count() == 0
    assert ImportRow.objects.filter(batch_id=batch.pk).count() == 500  # the report has every row
    assert ImportRow.objects.get(batch_id=batch.pk, line=482).errors
    assert person_table_schema() == before


def test_a_repeated_id_number_across_chunks_rejects_the_file(county, tmp_path):
    rows = people(400, seed=306)
    rows[390][1] = rows[5][1]
    batch = import_file(write(tmp_path, "twice.csv", csv_bytes(rows)), by=None)

    assert batch.status == ImportBatch.Status.REJECTED
    assert Person.objects.count() == 0
    reasons = ImportRow.objects.get(batch_id=batch.pk, line=392).errors
    assert any("7" in reason for reason in reasons)  # names line 7, the other row


def test_a_busy_person_table_is_imported_into_without_dropping_its_indexes(county, tmp_path, monkeypatch):
    monkeypatch.setattr(bulk, "BULK_MIN_ROWS", 100)
    monkeypatch.setattr(bulk, "LOCK_WAIT", "100ms")
    tried, real_drop = [], bulk.SecondaryIndexes.drop
    monkeypatch.setattr(bulk.SecondaryIndexes, "drop", lambda self: tried.append(real_drop(self)) or tried[-1])
    reader = connections.create_connection("default")
    reader.set_tenant(county)
    reader.set_autocommit(False)
    try:
        with reader.cursor() as cursor:  # a long read holding the table
            cursor.execute(f"SELECT count(*) FROM {pipeline.PERSONS}")
        batch = import_file(write(tmp_path, "big.csv", csv_bytes(people(300, seed=307))), by=None)
    finally:
        reader.rollback()
        reader.close()

    assert tried == [False]  # the lock was not free: indexes stayed
    assert batch.status == ImportBatch.Status.APPLIED and batch.new_rows == 300
    assert Person.objects.count() == 300
