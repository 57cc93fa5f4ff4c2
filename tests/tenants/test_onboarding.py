import pytest
from django.db import connection
from django.test import override_settings
from django.utils import translation
from django_tenants.utils import schema_exists, tenant_context

from civicgrid.platform.accounts.models import User
from civicgrid.platform.accounts.staff.models import StaffProfile, StaffRole
from civicgrid.platform.audit.models import AuditEntry
from civicgrid.province.onboarding import OnboardingFailed, OnboardingRefused, onboard_tenant
from civicgrid.tenants.models import Domain, Tenant
from civicgrid.tenants.schemas import TEMPLATE_SCHEMA, pending_migrations

GOOD = dict(name="临平区", division_code="330113", level="county", parent_code="330100",
            domain="linping.localhost", admin_password="a-long-password")


def snapshot():
    with connection.cursor() as cursor:
        cursor.execute("SELECT nspname FROM pg_namespace ORDER BY 1")
        schemas = [row[0] for row in cursor.fetchall()]
    return (Tenant.objects.count(), Domain.objects.count(), User.objects.count(), schemas)


def exploding_step(*, tenant, acting_user):
    """seeding something that breaks"""
    raise RuntimeError("injected failure")


def relation_facts(schema):
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", [schema])
        tables = {r[0] for r in cursor.fetchall()}
        cursor.execute("SELECT indexname FROM pg_indexes WHERE schemaname = %s", [schema])
        indexes = {r[0] for r in cursor.fetchall()}
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, contype FROM pg_constraint c "
            "JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = %s", [schema])
        constraints = {(r[0].split(".")[-1], r[1], r[2]) for r in cursor.fetchall()}
        cursor.execute("SELECT tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                       "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND NOT t.tgisinternal",
                       [schema])
        triggers = {r[0] for r in cursor.fetchall()}
    return tables, indexes, constraints, triggers


def test_clone_has_the_templates_tables_indexes_constraints_and_triggers(world):
    template = relation_facts(TEMPLATE_SCHEMA)
    clone = relation_facts(world.shangcheng.schema_name)
    assert template[0] == clone[0] and "staff_staffprofile" in clone[0]
    assert template[1] == clone[1]
    assert template[2] == clone[2]
    assert clone[3] == {"audit_entry_append_only", "audit_entry_no_truncate"}


def test_clone_has_its_own_sequences_and_no_template_rows(world):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT pg_get_serial_sequence('{world.shangcheng.schema_name}.staff_staffprofile', 'id')")
        sequence = cursor.fetchone()[0]
    assert sequence.startswith(f"{world.shangcheng.schema_name}.")
    with tenant_context(world.shangcheng):
        shangcheng_ids = set(StaffProfile.objects.values_list("id", flat=True))
    with tenant_context(world.yuhang):
        yuhang_ids = set(StaffProfile.objects.values_list("id", flat=True))
        assert StaffProfile.objects.count() == 2
    # Each schema counts from 1: the clone took the template's sequence, not its position.
    assert min(shangcheng_ids) == min(yuhang_ids) == 1


def test_clone_is_marked_migrated_without_replaying(world):
    assert pending_migrations(world.shangcheng.schema_name) == set()
    assert pending_migrations(TEMPLATE_SCHEMA) == set()


def test_onboarding_creates_domain_admin_and_audit(world):
    result = onboard_tenant(**GOOD, acting_user=world.user("prov_admin"))
    tenant = result.tenant
    assert result.created and tenant.status == Tenant.Status.ACTIVE and tenant.parent == world.city
    assert tenant.primary_domain == "linping.localhost"
    admin = User.objects.get(username="linping_admin")
    assert admin.home_tenant == tenant and admin.check_password("a-long-password")
    assert AuditEntry.objects.filter(action="tenant.onboarded", target_id=str(tenant.pk)).count() == 1
    with tenant_context(tenant):
        assert StaffProfile.objects.get(user=admin).role == StaffRole.COUNTY_ADMIN
        assert AuditEntry.objects.filter(action="tenant.created").count() == 1


def test_onboarding_twice_is_idempotent(world):
    onboard_tenant(**GOOD, acting_user=None)
    before = snapshot()
    again = onboard_tenant(**GOOD, acting_user=None)
    assert not again.created and again.tenant.division_code == "330113"
    assert snapshot() == before


@pytest.mark.parametrize("change, field, message", [
    ({"division_code": "33011"}, "division_code", "six digits"),
    ({"division_code": "330100", "domain": "x.localhost"}, "division_code", "already onboarded"),
    ({"division_code": "330200"}, "division_code", "does not end in 00"),
    ({"domain": "shangcheng.localhost"}, "domain", "already taken"),
    ({"domain": "not a domain"}, "domain", "valid host name"),
    ({"parent_code": "330102"}, "parent", "must be a city"),
    ({"parent_code": "330300"}, "parent", "No tenant"),
    ({"parent_code": ""}, "parent", "needs its parent city"),
    ({"division_code": "330381", "parent_code": "330100"}, "parent", "does not belong"),
])
def test_bad_input_is_refused_and_changes_nothing(world, change, field, message):
    before = snapshot()
    with translation.override("en"), pytest.raises(OnboardingRefused) as refused:
        onboard_tenant(**{**GOOD, **change}, acting_user=None)
    assert field in refused.value.errors
    assert any(message in m for m in refused.value.errors[field])
    assert snapshot() == before


def test_refusals_speak_chinese_by_default(world):
    with translation.override("zh-hans"), pytest.raises(OnboardingRefused) as refused:
        onboard_tenant(**{**GOOD, "domain": "shangcheng.localhost"}, acting_user=None)
    assert "已被占用" in refused.value.errors["domain"][0]


@override_settings(CIVICGRID_ONBOARDING_STEPS=["tests.tenants.test_onboarding.exploding_step"])
def test_a_failure_mid_onboarding_leaves_nothing_behind(world):
    before = snapshot()
    with pytest.raises(OnboardingFailed) as failed:
        onboard_tenant(**GOOD, acting_user=None)
    assert "seeding something that breaks" in str(failed.value)
    assert snapshot() == before
    assert not schema_exists("linping")
    assert not User.objects.filter(username="linping_admin").exists()


def test_onboarding_refuses_while_the_template_is_behind(world):
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TEMPLATE_SCHEMA}.django_migrations WHERE app = 'staff'")
    before = snapshot()
    with pytest.raises(OnboardingRefused) as refused:
        onboard_tenant(**GOOD, acting_user=None)
    assert "civicgrid migrate" in str(refused.value)
    assert snapshot() == before


def test_audit_trail_is_append_only(world):
    from django.db import transaction
    from django.db.utils import DatabaseError

    with tenant_context(world.shangcheng):
        entry = AuditEntry.objects.first()
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            AuditEntry.objects.filter(pk=entry.pk).update(action="tampered")
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            AuditEntry.objects.filter(pk=entry.pk).delete()


def test_the_clone_function_checks_names_without_reading_the_whole_catalogue():
    """django-tenants' clone_schema() read information_schema over every schema for each
    column it copied, so onboarding slowed with every tenant; ours asks the name itself."""
    from civicgrid.tenants.schemas import clone_function_sql

    sql = clone_function_sql()
    assert "REGEXP_MATCHES(s.column_name" not in sql and "REGEXP_MATCHES(s.table_name" not in sql.replace(
        "-- SELECT count(*) INTO v_cnt1 FROM information_schema.tables t WHERE EXISTS (SELECT REGEXP_MATCHES(s.table_name", "")
    assert sql.count("v_cnt1 := CASE WHEN in_table ~ '[A-Z]' THEN 1 ELSE 0 END;") == 2
    assert sql.count("v_cnt1 := CASE WHEN v_colrec.column_name ~ '[A-Z]' THEN 1 ELSE 0 END;") == 1
    assert "FROM pg_indexes old, pg_indexes new" not in sql and sql.count("::regclass) new WHERE TRUE") == 2
