"""Archive files of the audit trail in the tenant's storage (``tenants/<schema>/audit/archive/``).

An archive is two files: the rows as JSON lines (every hashed field, the id and the
row's hash, in chain order) and a manifest naming the file's SHA-256, the row count,
the hash the first row links to, the first and last hashes, and the archive before it.
Re-checking walks the manifests back from the newest one to GENESIS.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import dataclass, field

from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from . import chain

FOLDER = "audit/archive"


def line_of(row: dict) -> bytes:
    fields = {name: row[name] for name in ("id", *chain.FIELDS, "row_hash")}
    fields["at"] = chain.utc_iso(fields["at"])
    return json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


@dataclass
class WrittenArchive:
    name: str
    manifest_name: str
    manifest: dict


def write(*, stem: str, lines_file, manifest: dict) -> WrittenArchive:
    """Store the rows file (an open binary temp file) and its manifest; returns their names."""
    lines_file.seek(0)
    digest = hashlib.sha256()
    for block in iter(lambda: lines_file.read(1 << 20), b""):
        digest.update(block)
    lines_file.seek(0)
    name = _replace(f"{FOLDER}/{stem}.jsonl", File(lines_file))
    manifest = {**manifest, "file": name, "file_sha256": digest.hexdigest()}
    body = json.dumps(manifest, sort_keys=True, ensure_ascii=False, indent=1).encode()
    manifest_name = _replace(f"{FOLDER}/{stem}.manifest.json", ContentFile(body))
    return WrittenArchive(name, manifest_name, manifest)


def _replace(name: str, content) -> str:
    # A name left by an attempt whose transaction rolled back: those rows are still in the table.
    if default_storage.exists(name):
        default_storage.delete(name)
    return default_storage.save(name, content)


def spool():
    return tempfile.TemporaryFile()


@dataclass
class ArchiveCheck:
    archives: list[str] = field(default_factory=list)
    rows: int = 0
    problem: str = ""

    @property
    def ok(self) -> bool:
        return not self.problem


def recheck(newest_manifest: str, *, expected_last_hash: str) -> ArchiveCheck:
    """Re-verify every archive from the newest back to the first: file hashes, each row's
    hash and link, and that each archive ends where the next one (or the table) starts."""
    result = ArchiveCheck()
    name, expected_last = newest_manifest, expected_last_hash
    while name:
        try:
            with default_storage.open(name) as handle:
                manifest = json.loads(handle.read())
        except (OSError, ValueError) as exc:
            result.problem = f"manifest {name} cannot be read: {exc}"
            return result
        problem = _recheck_one(manifest, expected_last)
        if problem:
            result.problem = f"{manifest.get('file', name)}: {problem}"
            return result
        result.archives.append(manifest["file"])
        result.rows += manifest["count"]
        expected_last = manifest["prev_hash"]
        name = manifest.get("previous_manifest") or ""
    if expected_last != chain.GENESIS:
        result.problem = "the oldest archive does not start the chain (an archive is missing)"
    return result


def _recheck_one(manifest: dict, expected_last: str) -> str:
    if manifest.get("last_hash") != expected_last:
        return "its last hash is not the one the rows after it link to"
    digest = hashlib.sha256()
    previous, count = manifest["prev_hash"], 0
    try:
        with default_storage.open(manifest["file"]) as handle:
            for raw in handle:
                digest.update(raw)
                row = json.loads(raw)
                if row["prev_hash"] != previous:
                    return f"row {row['id']}: its previous hash does not match the row before it"
                if chain.row_hash(row) != row["row_hash"]:
                    return f"row {row['id']}: its content does not match its hash"
                previous, count = row["row_hash"], count + 1
    except (OSError, ValueError, KeyError) as exc:
        return f"the file cannot be read: {exc}"
    if digest.hexdigest() != manifest["file_sha256"]:
        return "the file's SHA-256 is not the manifest's"
    if count != manifest["count"] or previous != manifest["last_hash"]:
        return "the file does not hold the rows its manifest names"
    return ""
