"""Schema-level work: the template's migration state, cloning, migrating tenants.

Onboarding clones ``TENANT_BASE_SCHEMA`` without data and copies its
``django_migrations`` rows; it never replays the migration chain per tenant.
A template that is behind would give new tenants missing columns marked as
applied, so cloning refuses until the template is current.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django_tenants.clone import CLONE_SCHEMA_FUNCTION
from django_tenants.utils import schema_exists

TEMPLATE_SCHEMA = settings.TENANT_BASE_SCHEMA


class TemplateBehind(RuntimeError):
    """The template schema lacks migrations; run `civicgrid migrate` first."""


def all_migration_keys() -> set[tuple[str, str]]:
    return set(MigrationLoader(None, ignore_no_migrations=True).graph.nodes)


def applied_migration_keys(schema: str) -> set[tuple[str, str]]:
    """What ``schema``'s own django_migrations table says is applied."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM information_schema.tables WHERE table_schema = %s AND table_name = 'django_migrations'",
            [schema],
        )
        if cursor.fetchone() is None:
            return set()
        cursor.execute(f'SELECT app, name FROM "{schema}".django_migrations')
        return set(cursor.fetchall())


def pending_migrations(schema: str, known: set[tuple[str, str]] | None = None) -> set[tuple[str, str]]:
    known = all_migration_keys() if known is None else known
    return known - applied_migration_keys(schema)


def ensure_template_current() -> None:
    if not schema_exists(TEMPLATE_SCHEMA):
        raise TemplateBehind(f"template schema {TEMPLATE_SCHEMA!r} does not exist")
    missing = pending_migrations(TEMPLATE_SCHEMA)
    if missing:
        names = ", ".join(f"{app}.{name}" for app, name in sorted(missing)[:5])
        raise TemplateBehind(f"template schema {TEMPLATE_SCHEMA!r} lacks {len(missing)} migration(s): {names}")


# clone_schema() asks, for every table and every column it copies, whether the name has
# capitals, by reading information_schema over the whole database: each clone took longer
# with every tenant (0.85 s for the first county, 1.9 s for the sixteenth, with Wagtail's
# tables in the template). The same question, asked of the name itself:
_NAME_CHECKS = [
    (re.compile(r"SELECT count\(\*\) INTO v_cnt1 FROM information_schema\.tables t WHERE EXISTS \(SELECT "
                r"REGEXP_MATCHES\(s\.table_name, '\(\[A-Z\]\+\)','g'\) FROM information_schema\.tables s\s*"
                r"WHERE t\.table_schema=s\.table_schema AND t\.table_name=s\.table_name AND t\.table_schema = "
                r"in_schema AND t\.table_name = in_table AND t\.table_type = 'BASE TABLE'\);"),
     "v_cnt1 := CASE WHEN in_table ~ '[A-Z]' THEN 1 ELSE 0 END;", 2),
    (re.compile(r"SELECT COUNT\(\*\) INTO v_cnt1 FROM information_schema\.columns t WHERE EXISTS \(SELECT "
                r"REGEXP_MATCHES\(s\.column_name, '\(\[A-Z\]\+\)','g'\) FROM information_schema\.columns s\s*"
                r"WHERE t\.table_schema=s\.table_schema and t\.table_name=s\.table_name and "
                r"t\.column_name=s\.column_name AND t\.table_schema = quote_ident\(in_schema\) AND "
                r"column_name = v_colrec\.column_name\);"),
     "v_cnt1 := CASE WHEN v_colrec.column_name ~ '[A-Z]' THEN 1 ELSE 0 END;", 1),
    # Giving each cloned index its template name back joined pg_indexes with itself over the
    # whole database per table: the indexes of the one table, found by its oid, are enough.
    (re.compile(r"SELECT old\.indexname, new\.indexname\s+FROM pg_indexes old, pg_indexes new\s+"
                r"WHERE old\.schemaname = source_schema\s+AND new\.schemaname = dest_schema\s+"
                r"AND old\.tablename = new\.tablename\s+AND old\.tablename = tblname\s+"),
     "SELECT old.indexname, new.indexname "
     "FROM (SELECT i.relname AS indexname, pg_get_indexdef(i.oid) AS indexdef FROM pg_index x "
     "JOIN pg_class i ON i.oid = x.indexrelid "
     "WHERE x.indrelid = (quote_ident(source_schema) || '.' || quote_ident(tblname))::regclass) old, "
     "(SELECT i.relname AS indexname, pg_get_indexdef(i.oid) AS indexdef FROM pg_index x "
     "JOIN pg_class i ON i.oid = x.indexrelid "
     "WHERE x.indrelid = (quote_ident(dest_schema) || '.' || quote_ident(tblname))::regclass) new "
     "WHERE TRUE ", 2),
]


def clone_function_sql() -> str:
    """django-tenants' clone_schema() with its name checks made local. Refuses, loudly,
    a django-tenants whose function no longer reads as expected: review it, then adjust."""
    sql = CLONE_SCHEMA_FUNCTION
    for pattern, replacement, expected in _NAME_CHECKS:
        sql, found = pattern.subn(replacement, sql)
        if found != expected:
            raise RuntimeError(f"django-tenants' clone_schema() changed: expected {expected} of {pattern.pattern[:60]}…")
    return sql.format(db_user=settings.DATABASES["default"].get("USER") or "postgres")


def install_clone_function() -> None:
    """(Re)install the clone_schema() SQL function once, at migrate time.

    Installing it drops and recreates a type in ``public``; doing that on every
    onboarding would serialise concurrent onboardings on that lock.
    """
    connection.set_schema_to_public()
    with connection.cursor() as cursor:
        cursor.execute(clone_function_sql())


def clone_function_installed() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_proc WHERE proname = 'clone_schema' LIMIT 1")
        return cursor.fetchone() is not None


def clone_template(new_schema: str) -> None:
    """Clone the template's structure (no rows) into ``new_schema`` and mark its
    migrations applied. Runs inside the caller's transaction: a rollback drops it all."""
    if not clone_function_installed():
        install_clone_function()
    with connection.cursor() as cursor:
        cursor.execute("SELECT clone_schema(%s, %s, 'NODATA')", [TEMPLATE_SCHEMA, new_schema])
        cursor.execute(
            f'INSERT INTO "{new_schema}".django_migrations (app, name, applied) '
            f'SELECT app, name, now() FROM "{TEMPLATE_SCHEMA}".django_migrations'
        )
    align_constraint_names(new_schema)


# clone_schema() recreates some constraints (Django's unique_together) under
# PostgreSQL's default names; a later migration that drops them by name would
# then fail in cloned tenants only. Match each by table and definition and
# give it the template's name back.
_MISNAMED_CONSTRAINTS = """
SELECT cn.relname, c_new.conname, c_tpl.conname
FROM pg_constraint c_tpl
JOIN pg_class ct ON ct.oid = c_tpl.conrelid
JOIN pg_namespace nt ON nt.oid = ct.relnamespace AND nt.nspname = %(template)s
JOIN pg_namespace nn ON nn.nspname = %(clone)s
JOIN pg_class cn ON cn.relnamespace = nn.oid AND cn.relname = ct.relname
JOIN pg_constraint c_new ON c_new.conrelid = cn.oid AND c_new.contype = c_tpl.contype
 AND replace(pg_get_constraintdef(c_new.oid), %(clone)s || '.', '')
   = replace(pg_get_constraintdef(c_tpl.oid), %(template)s || '.', '')
WHERE c_new.conname <> c_tpl.conname
  AND NOT EXISTS (SELECT 1 FROM pg_constraint same WHERE same.conrelid = cn.oid AND same.conname = c_tpl.conname)
"""


def align_constraint_names(new_schema: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(_MISNAMED_CONSTRAINTS, {"template": TEMPLATE_SCHEMA, "clone": new_schema})
        for table, wrong, right in cursor.fetchall():
            cursor.execute(f'ALTER TABLE "{new_schema}"."{table}" RENAME CONSTRAINT "{wrong}" TO "{right}"')


def drop_schema(schema: str) -> None:
    if schema in ("public", TEMPLATE_SCHEMA):
        raise ValueError(f"refusing to drop {schema!r}")
    with connection.cursor() as cursor:
        cursor.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@dataclass
class MigrateReport:
    migrated: list[str]
    skipped: list[str]


def migrate_schema(schema: str, *, verbosity: int = 0) -> None:
    if schema == "public":
        call_command("migrate_schemas", shared=True, interactive=False, verbosity=verbosity)
    else:
        call_command("migrate_schemas", tenant=True, schema_name=schema, interactive=False, verbosity=verbosity)
    connection.set_schema_to_public()


def migrate_all(
    tenant_schemas: Iterable[str], *, on_schema: Callable[[str, bool], None] | None = None, verbosity: int = 0
) -> MigrateReport:
    """Public, then the template, then each tenant that has anything to apply."""
    known = all_migration_keys()
    report = MigrateReport(migrated=[], skipped=[])
    if pending_migrations("public", known):
        migrate_schema("public", verbosity=verbosity)
        report.migrated.append("public")
    else:
        report.skipped.append("public")
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE SCHEMA IF NOT EXISTS "{TEMPLATE_SCHEMA}"')
    for schema in [TEMPLATE_SCHEMA, *tenant_schemas]:
        needed = bool(pending_migrations(schema, known))
        if needed:
            migrate_schema(schema, verbosity=verbosity)
            report.migrated.append(schema)
        else:
            report.skipped.append(schema)
        if on_schema:
            on_schema(schema, needed)
    if not clone_function_installed():
        install_clone_function()
    return report
