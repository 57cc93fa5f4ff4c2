"""Tampering with the real audit table, as a database superuser would: the tests connect
as one, so they can switch the append-only trigger off inside their own transaction."""

from __future__ import annotations

import importlib
from contextlib import contextmanager
from types import SimpleNamespace

from django.db import connection

from civicgrid.platform.audit import chain

migration = importlib.import_module("civicgrid.platform.audit.migrations.0004_chain_existing_rows")


@contextmanager
def trigger_disabled():
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditentry DISABLE TRIGGER audit_entry_append_only")
        try:
            yield cursor
        finally:
            cursor.execute("ALTER TABLE audit_auditentry ENABLE TRIGGER audit_entry_append_only")


def rechain_everything() -> None:
    """Compute every row's hashes again from GENESIS, as the migration does for old rows."""
    with trigger_disabled() as cursor:
        cursor.execute("UPDATE audit_auditentry SET prev_hash = '', row_hash = ''")
    migration.chain_existing_rows(None, SimpleNamespace(connection=connection))


def forged_row(*, prev_hash: str, **fields) -> dict:
    """A row whose own hash is right: only its place in the chain can give it away."""
    from django.utils import timezone

    row = {"at": timezone.now(), "actor_id": None, "actor_label": "mallory", "action": "case.close",
           "target_type": "", "target_id": "", "purpose": "", "data": {}, **fields, "prev_hash": prev_hash}
    row["row_hash"] = chain.row_hash(row)
    return row
