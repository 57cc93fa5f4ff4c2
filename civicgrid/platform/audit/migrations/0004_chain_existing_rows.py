"""Chain the rows written before the chain existed (in id order, their insertion order),
then let the append-only trigger admit one kind of DELETE: the archive action's, which
sets ``civicgrid.audit_archive`` for its own transaction only. TRUNCATE is refused too.

Runs in public, the template and every tenant schema (``civicgrid migrate``); the
template has no rows, and onboarding clones it with this trigger in place.
"""

import json

from django.db import migrations

from civicgrid.platform.audit import chain

TRIGGER = """
CREATE OR REPLACE FUNCTION audit_entry_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND coalesce(current_setting('civicgrid.audit_archive', true), '') <> '' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'the audit trail is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
DROP TRIGGER IF EXISTS audit_entry_no_truncate ON audit_auditentry;
CREATE TRIGGER audit_entry_no_truncate BEFORE TRUNCATE ON audit_auditentry
    FOR EACH STATEMENT EXECUTE FUNCTION audit_entry_is_append_only();
"""

PREVIOUS_TRIGGER = """
DROP TRIGGER IF EXISTS audit_entry_no_truncate ON audit_auditentry;
CREATE OR REPLACE FUNCTION audit_entry_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
"""

COLUMNS = ", ".join(["id", *chain.FIELDS[:-1]])


def chain_existing_rows(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        # The one UPDATE the trail ever gets: filling in the new columns, in this transaction.
        cursor.execute("ALTER TABLE audit_auditentry DISABLE TRIGGER audit_entry_append_only")
        cursor.execute(f"SELECT {COLUMNS} FROM audit_auditentry WHERE row_hash = '' ORDER BY id")
        names = [column.name for column in cursor.description]
        rows = cursor.fetchall()
        previous = chain.GENESIS
        updates = []
        for values in rows:
            row = dict(zip(names, values, strict=True))
            if isinstance(row["data"], str):
                row["data"] = json.loads(row["data"])
            row["prev_hash"] = previous
            previous = chain.row_hash(row)
            updates.append((row["prev_hash"], previous, row["id"]))
        cursor.executemany("UPDATE audit_auditentry SET prev_hash = %s, row_hash = %s WHERE id = %s", updates)
        cursor.execute("ALTER TABLE audit_auditentry ENABLE TRIGGER audit_entry_append_only")


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_hash_chain")]
    operations = [
        migrations.RunPython(chain_existing_rows, migrations.RunPython.noop),
        migrations.RunSQL(TRIGGER, PREVIOUS_TRIGGER),
    ]
