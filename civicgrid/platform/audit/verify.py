"""Proving a schema's audit chain: every row's hash recomputed, every link followed.

The chain starts at GENESIS, or, once older rows were archived, at the last archived
hash that the newest ``audit.archive`` row names. A row altered, removed or slipped in
breaks the chain at that row or at the one after it; the first break is reported.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection, transaction

from . import chain

ARCHIVE_ACTION = "audit.archive"
BATCH = 5000
_MAX_ID = 2**63 - 1

# (done, total)
Progress = Callable[[int, int], None]


@dataclass
class VerifyResult:
    checked: int = 0
    first_id: int | None = None
    last_id: int | None = None
    last_hash: str = chain.GENESIS
    broken_id: int | None = None
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_id is None and not self.problem


def newest_archive() -> dict | None:
    """The data of the newest ``audit.archive`` row: which archive, and its last hash."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT data FROM audit_auditentry WHERE action = %s ORDER BY id DESC LIMIT 1",
                       [ARCHIVE_ACTION])
        found = cursor.fetchone()
    if found is None:
        return None
    return json.loads(found[0]) if isinstance(found[0], str) else found[0]


def anchor_hash() -> str:
    """Where the chain in the table starts: the hash of the last archived row, or GENESIS."""
    newest = newest_archive()
    return (newest or {}).get("last_hash") or chain.GENESIS


def verify_rows(*, after_id: int = 0, prev_hash: str | None = None, limit: int | None = None,
                up_to_id: int | None = None, progress: Progress | None = None) -> VerifyResult:
    """Check the rows of the current schema with ``after_id`` < id <= ``up_to_id`` in order,
    starting from ``prev_hash`` (the anchor when None), at most ``limit`` of them."""
    up_to_id = _MAX_ID if up_to_id is None else up_to_id
    outermost = not connection.in_atomic_block
    with transaction.atomic(), connection.cursor() as cursor:
        if outermost:  # one snapshot for the whole walk: rows appended meanwhile are not reached
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        expected = anchor_hash() if prev_hash is None else prev_hash
        result = VerifyResult(last_hash=expected)
        cursor.execute("SELECT count(*) FROM audit_auditentry WHERE id > %s AND id <= %s", [after_id, up_to_id])
        total = cursor.fetchone()[0]
        if limit is not None:
            total = min(total, limit)
        for rows in row_batches(cursor, after_id=after_id, up_to_id=up_to_id, most=total):
            for row in rows:
                problem = _check(row, expected)
                if problem:
                    result.broken_id, result.problem = row["id"], problem
                    return result
                expected = row["row_hash"]
                result.checked += 1
                result.first_id = result.first_id or row["id"]
                result.last_id = row["id"]
                result.last_hash = expected
            if progress:
                progress(result.checked, total)
    return result


ROW_COLUMNS = ", ".join(["id", *chain.FIELDS, "row_hash"])


def row_batches(cursor, *, after_id: int, up_to_id: int, most: int | None = None):
    """The rows with ``after_id`` < id <= ``up_to_id`` in id order, BATCH at a time (lists of
    dicts with the chained fields, id and row_hash); ``most`` of them at most. Verifying and
    archiving both walk the trail this way."""
    taken = 0
    while most is None or taken < most:
        size = BATCH if most is None else min(BATCH, most - taken)
        cursor.execute(f"SELECT {ROW_COLUMNS} FROM audit_auditentry WHERE id > %s AND id <= %s ORDER BY id LIMIT %s",
                       [after_id, up_to_id, size])
        names = [column.name for column in cursor.description]
        rows = [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
        if not rows:
            return
        yield rows
        taken += len(rows)
        after_id = rows[-1]["id"]


def _check(row: dict, expected_prev: str) -> str:
    if row["prev_hash"] != expected_prev:
        return "its previous hash does not match the row before it (a row before it was removed or inserted)"
    if isinstance(row["data"], str):
        row["data"] = json.loads(row["data"])
    if chain.row_hash(row) != row["row_hash"]:
        return "its content does not match its hash (the row was altered)"
    return ""


# A page checks at most this many new rows per request (well under a second); the
# rest on the next visit, or all at once with ``civicgrid audit verify``.
QUICK_ROWS = 20_000
_CHECKPOINT = "audit-chain-verified"  # the cache prefixes every key with the schema


@dataclass
class ChainStatus:
    ok: bool
    verified_up_to: int | None  # the id of the last row proven so far
    verified_rows: int  # rows proven in this table (since the anchor)
    remaining: int  # rows not reached yet
    broken_id: int | None = None
    problem: str = ""


def quick_status() -> ChainStatus:
    """The chain's state for a page: goes on from where the last check stopped (kept in
    the cache), checking at most QUICK_ROWS new rows. A break is checked again from the
    start before it is reported, so a stale checkpoint never cries wolf."""
    from django.core.cache import cache

    checkpoint = cache.get(_CHECKPOINT)
    if checkpoint:
        result = verify_rows(after_id=checkpoint["id"], prev_hash=checkpoint["hash"], limit=QUICK_ROWS)
        if not result.ok:
            checkpoint, result = None, verify_rows(limit=QUICK_ROWS)
    else:
        result = verify_rows(limit=QUICK_ROWS)
    done = (checkpoint or {}).get("rows", 0) + result.checked
    if result.ok and result.last_id:
        cache.set(_CHECKPOINT, {"id": result.last_id, "hash": result.last_hash, "rows": done}, None)
    elif not result.ok:
        cache.delete(_CHECKPOINT)
    last_id = result.last_id or (checkpoint or {}).get("id")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM audit_auditentry WHERE id > %s", [last_id or 0])
        remaining = cursor.fetchone()[0]
    return ChainStatus(ok=result.ok, verified_up_to=last_id, verified_rows=done,
                       remaining=0 if not result.ok else remaining, broken_id=result.broken_id,
                       problem=result.problem)
