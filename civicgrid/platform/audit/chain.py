"""The hash chain of an audit trail: one chain per schema, in insertion (id) order.

``row_hash`` is SHA-256 over a canonical JSON of the row's fields, the previous row's
hash among them, so changing, removing or slipping in a row breaks every link after it.
The canonical form is JSON with sorted keys, no spaces, UTF-8, the time in UTC ISO
format with microseconds: anyone can recompute it from an export or an archive file
with nothing but a JSON library and SHA-256.

Appends are serialised per schema by a transaction-level advisory lock keyed on the
audit table's oid (one table per schema, so one lock per schema, never shared between
two schemas). Holding it until commit is what keeps two writers from both reading the
same tail and forking the chain; the tail is read after the lock is granted, so it is
the last committed row (READ COMMITTED takes a new snapshot per statement). The hash is
computed here in Python rather than in a trigger so that the one definition of the
canonical form serves writing, verifying and re-checking archive files alike.
"""

from __future__ import annotations

import datetime
import hashlib
import json

GENESIS = "0" * 64

# The fields a row's hash covers, by their column names. Not the id: the database
# assigns it at insert, and the order it gives is what prev_hash links anyway.
FIELDS = ("at", "actor_id", "actor_label", "action", "target_type", "target_id", "purpose", "data",
          "prev_hash")

# High half of the advisory lock key ("AUDT"), so it cannot meet another feature's locks.
_LOCK_CLASS = 0x41554454


def utc_iso(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).isoformat(timespec="microseconds")


def canonical(row: dict) -> bytes:
    """The bytes hashed for ``row`` (a mapping with every name in FIELDS)."""
    fields = {name: row[name] for name in FIELDS}
    if isinstance(fields["at"], datetime.datetime):
        fields["at"] = utc_iso(fields["at"])
    return json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      allow_nan=False).encode()


def row_hash(row: dict) -> str:
    return hashlib.sha256(canonical(row)).hexdigest()


def lock_and_read_tail(cursor) -> str:
    """Take this schema's append lock (until the transaction ends) and return the
    hash of the last row, or GENESIS. Must run inside a transaction."""
    cursor.execute("SELECT pg_advisory_xact_lock((%s::bigint << 32) | 'audit_auditentry'::regclass::oid::bigint)",
                   [_LOCK_CLASS])
    cursor.execute("SELECT row_hash FROM audit_auditentry ORDER BY id DESC LIMIT 1")
    found = cursor.fetchone()
    return found[0] if found and found[0] else GENESIS


def as_stored(data: dict, cursor) -> dict:
    """``data`` as it reads back from jsonb, so the hash written now is the hash verify
    computes later. Only numbers can change on the way (1e20 comes back as an integer),
    so only data holding a float makes the round trip to the database."""
    if not _has_float(data):
        return json.loads(json.dumps(data))
    cursor.execute("SELECT %s::jsonb", [json.dumps(data)])
    value = cursor.fetchone()[0]
    return json.loads(value) if isinstance(value, str) else value


def _has_float(value) -> bool:
    if isinstance(value, float):
        return True
    if isinstance(value, dict):
        return any(_has_float(item) for item in value.values())
    if isinstance(value, list | tuple):
        return any(_has_float(item) for item in value)
    return False
