"""Anchoring: publishing each schema's chain head where the chain's own database rows
cannot reach it, and checking the chain against it.

A hash chain proves nothing about its end: deleting the newest rows, or a superuser
recomputing every hash, leaves a chain that verifies. So once a day (beat ``audit-anchor``,
or ``civicgrid audit anchor``) the head of every schema's chain (schema, row id, row hash,
time) is written to the province's ``AuditAnchor`` table in public and, as JSON lines, to
the province's object storage (``tenants/public/audit/anchors/``, beside the archives). The
storage copy is what an inspector keeps when the database itself is in doubt.

``check`` then requires the anchored row to be still in the table with the anchored hash
(or archived, ending in that hash): a chain cut or rewritten below its anchor fails, naming it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_context

from civicgrid.tenants.selectors import every_schema

from . import chain, verify
from .models import AuditAnchor

FOLDER = "audit/anchors"


def chain_head() -> tuple[int, str] | None:
    """The newest row of the current schema's trail: (id, row hash)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, row_hash FROM audit_auditentry ORDER BY id DESC LIMIT 1")
        return cursor.fetchone()


def anchor_all(schemas: list[str] | None = None) -> list[AuditAnchor]:
    """Publish the head of each schema's chain (every schema when None). Storage first,
    then the table in one transaction: an anchor in the table always has its line stored."""
    now = timezone.now()
    anchors = []
    if schemas is None:
        with schema_context(get_public_schema_name()):
            schemas = every_schema()
    for schema in schemas:
        with schema_context(schema):
            head = chain_head()
        if head:
            anchors.append(AuditAnchor(schema=schema, row_id=head[0], row_hash=head[1], anchored_at=now))
    if not anchors:
        return []
    lines = "".join(json.dumps({"schema": a.schema, "row_id": a.row_id, "row_hash": a.row_hash,
                                "anchored_at": chain.utc_iso(now)}, sort_keys=True) + "\n" for a in anchors)
    with schema_context(get_public_schema_name()):
        name = default_storage.save(f"{FOLDER}/{now:%Y-%m-%dT%H%M%S}Z.jsonl", ContentFile(lines.encode()))
        for anchor in anchors:
            anchor.file = name
        with transaction.atomic():
            AuditAnchor.objects.bulk_create(anchors)
    return anchors


def latest(schema: str) -> AuditAnchor | None:
    with schema_context(get_public_schema_name()):
        return AuditAnchor.objects.filter(schema=schema).order_by("-anchored_at", "-id").first()


@dataclass
class AnchorCheck:
    anchor: AuditAnchor | None = None
    problem: str = ""

    @property
    def ok(self) -> bool:
        return not self.problem

    @property
    def named(self) -> str:
        a = self.anchor
        return (f"anchor {a.pk} of {a.anchored_at:%Y-%m-%d %H:%M:%S} (row {a.row_id}, hash {a.row_hash[:16]}…, "
                f"{a.file})") if a else "no anchor"


def check(schema: str) -> AnchorCheck:
    """Is ``schema``'s chain still where its newest anchor saw it? Run after ``verify_rows``
    found the chain intact: then the anchored row present with its hash proves every row
    up to it."""
    anchor = latest(schema)
    result = AnchorCheck(anchor=anchor)
    if anchor is None:
        return result
    with schema_context(schema), connection.cursor() as cursor:
        cursor.execute("SELECT row_hash FROM audit_auditentry WHERE id = %s", [anchor.row_id])
        found = cursor.fetchone()
        archived = verify.newest_archive() or {}
    if found is not None:
        if found[0] != anchor.row_hash:
            result.problem = f"row {anchor.row_id} no longer has the hash of {result.named}: the chain was rewritten"
    elif anchor.row_id <= int(archived.get("last_id") or 0):
        if anchor.row_id == archived["last_id"] and archived.get("last_hash") != anchor.row_hash:
            result.problem = f"the archive ends in another hash than {result.named}: the chain was rewritten"
    else:
        result.problem = f"row {anchor.row_id} of {result.named} is gone: the newest rows were deleted"
    return result


def forget(schema: str) -> int:
    """Drop a purged tenant's anchors, so a new tenant given the same schema name starts clean."""
    with schema_context(get_public_schema_name()):
        return AuditAnchor.objects.filter(schema=schema).delete()[0]
