"""Exporting, backing up and restoring one tenant (the archive's layout is in ``archive``).

``export_tenant`` reads; it writes one audit row in ``public``. ``restore_tenant`` makes a
new tenant from an archive, in one transaction like onboarding: the cloned schema, its
rows, the tenant and domain rows and the accounts commit together or not at all, and
only after every table was proven equal to the archive's figures. Files are copied into
the new prefix before the commit and removed again if it fails.

A restore never writes over a schema: the name must be new. It refuses an archive whose
migrations differ from this installation's (the rows would not fit the tables), and it
replays rows into a clone of the template rather than running the dump's DDL, so the
structure is always this installation's own.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import io
import json
import os
import tarfile
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path

import psycopg
from django.conf import settings
from django.core import serializers
from django.core.files.base import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django_tenants.utils import tenant_context

from civicgrid.platform.accounts.models import User
from civicgrid.platform.audit.actions import record
from civicgrid.plugins.models import Activation, CatalogEntry
from civicgrid.search.backends import backend
from civicgrid.tenants.models import Domain, Tenant
from civicgrid.tenants.schemas import (
    TEMPLATE_SCHEMA,
    TemplateBehind,
    applied_migration_keys,
    clone_template,
    ensure_template_current,
)
from civicgrid.tenants.validation import RESERVED_SCHEMAS, SCHEMA, validate_onboarding

from . import archive as arc

Progress = Callable[[int, int, str], None]


class RestoreRefused(Exception):
    """The restore cannot go ahead; ``errors`` says why, by field. Nothing was changed."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__("; ".join(m for messages in errors.values() for m in messages))


@dataclass
class ExportResult:
    path: Path
    sha256: str
    manifest: dict


def _quiet(done, total, step):
    return None


def backup_dir() -> Path:
    """Where backups and offboarding archives go: ``CIVICGRID_BACKUP_DIR`` (a setting or the
    environment; a mounted volume in production), else ``backups`` beside the embedded data."""
    configured = getattr(settings, "CIVICGRID_BACKUP_DIR", "") or os.environ.get("CIVICGRID_BACKUP_DIR", "")
    return Path(configured) if configured else Path(settings.DATA_DIR) / "backups"


def archive_name(tenant: Tenant, moment=None) -> str:
    moment = (moment or timezone.now()).astimezone(UTC)
    return f"{tenant.schema_name}-{tenant.division_code}-{moment:%Y%m%dT%H%M%SZ}.tar"


def _snapshot_connection() -> psycopg.Connection:
    s = connection.settings_dict
    params = {"dbname": s["NAME"], "user": s.get("USER") or None, "password": s.get("PASSWORD") or None,
              "host": s.get("HOST") or s.get("OPTIONS", {}).get("host") or None, "port": s.get("PORT") or None}
    conn = psycopg.connect(**{k: v for k, v in params.items() if v}, autocommit=False)
    conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    conn.read_only = True
    return conn


def _tenant_row(tenant: Tenant) -> dict:
    return {"schema_name": tenant.schema_name, "name": tenant.name, "division_code": tenant.division_code,
            "level": tenant.level, "parent_code": tenant.parent.division_code if tenant.parent_id else None,
            "status": tenant.status, "created_at": tenant.created_at.isoformat(),
            "active_plugins": list(tenant.active_plugins or [])}


def _elasticsearch_documents(schema: str) -> bytes | None:
    """The tenant's documents as JSON lines when Elasticsearch is the backend; None for the
    PostgreSQL backend, whose documents are rows of the schema and so already in the dump."""
    if not settings.ELASTICSEARCH_URL:
        return None
    from elasticsearch import Elasticsearch, helpers

    from civicgrid.search.backends.es_mapping import tenant_alias

    client = Elasticsearch(settings.ELASTICSEARCH_URL)
    lines = [json.dumps({"_id": hit["_id"], **hit["_source"]}, ensure_ascii=False, default=str)
             for hit in helpers.scan(client, index=tenant_alias(settings.ELASTICSEARCH_INDEX, schema),
                                     query={"query": {"match_all": {}}})]
    return ("\n".join(lines) + "\n").encode() if lines else b""


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), int(time.time()), 0o600
    tar.addfile(info, io.BytesIO(data))


class _Hashing(io.RawIOBase):
    """Reads a stored file once, hashing what tar copies."""

    def __init__(self, stream):
        self.stream, self.digest = stream, hashlib.sha256()

    def readable(self):
        return True

    def readinto(self, buffer):
        data = self.stream.read(len(buffer))
        self.digest.update(data)
        buffer[: len(data)] = data
        return len(data)


def export_tenant(*, tenant: Tenant, to: str | Path, acting_user: User | None,
                  progress: Progress | None = None, audit_action: str = "tenant.exported") -> ExportResult:
    """Write one archive of ``tenant``. ``to`` is a file (``….tar``) or a directory, where a
    timestamped name is chosen. Written beside its final name and renamed when complete,
    with a ``.sha256`` file next to it."""
    report = progress or _quiet
    connection.set_schema_to_public()
    if tenant.is_public:
        raise arc.ArchiveError("the public schema is not a tenant")
    target = Path(to)
    if target.is_dir() or not target.suffix:
        target.mkdir(parents=True, exist_ok=True)
        target = target / archive_name(tenant)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    schema = tenant.schema_name
    manifest = {
        "format": arc.FORMAT, "created_at": timezone.now().isoformat(),
        "civicgrid_version": importlib.metadata.version("civicgrid"),
        "tenant": _tenant_row(tenant),
        "domains": [{"domain": d.domain, "is_primary": d.is_primary, "serves": d.serves}
                    for d in tenant.domains.order_by("-is_primary", "domain")],
        "activations": [{"plugin": a.plugin_id, "enabled": a.enabled,
                         "enabled_at": a.enabled_at.isoformat() if a.enabled_at else None,
                         "disabled_at": a.disabled_at.isoformat() if a.disabled_at else None}
                        for a in Activation.objects.filter(tenant=tenant)],
        "migrations": sorted([app, name] for app, name in applied_migration_keys(schema)),
        "search_backend": backend().name,
    }
    total = 5
    with tempfile.TemporaryDirectory(prefix="civicgrid-export-") as scratch:
        dump = Path(scratch) / arc.SCHEMA_DUMP
        # The figures and the dump read one snapshot: a tenant still in use exports a
        # consistent state, and the manifest describes exactly the rows in the dump.
        report(0, total, gettext_noop("dumping the schema"))
        with _snapshot_connection() as snap:
            snapshot = snap.execute("SELECT pg_export_snapshot()").fetchone()[0]
            pg_dump = arc.pg_tool("pg_dump")
            arc.run_tool([pg_dump, f"--schema={schema}", "--format=custom", "--no-owner", "--no-privileges",
                          "--load-via-partition-root", f"--snapshot={snapshot}", f"--file={dump}"])
            manifest["pg_dump_version"] = arc._major(pg_dump)
            report(1, total, gettext_noop("counting rows"))
            manifest["tables"] = _figures_in(snap, schema)
            manifest["partitions"] = _partitions_in(snap, schema)
        users = User.objects.filter(home_tenant=tenant).order_by("pk")
        manifest["users"] = [u.username for u in users]
        with tarfile.open(partial, "w:") as tar:
            tar.add(dump, arcname=arc.SCHEMA_DUMP)
            _add_bytes(tar, arc.USERS, serializers.serialize("json", users).encode())
            report(2, total, gettext_noop("exporting search documents"))
            documents = _elasticsearch_documents(schema)
            if documents is not None:
                _add_bytes(tar, arc.SEARCH_DOCUMENTS, documents)
            manifest["search_documents"] = documents.count(b"\n") if documents else None
            report(3, total, gettext_noop("copying files"))
            manifest["files"] = _add_files(tar, tenant)
            _add_bytes(tar, arc.MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1).encode())
    report(4, total, gettext_noop("checking the archive"))
    digest = arc.sha256_of(partial)
    os.replace(partial, target)
    target.with_name(target.name + ".sha256").write_text(f"{digest}  {target.name}\n")
    with transaction.atomic():
        record(action=audit_action, actor=acting_user, target=tenant, archive=target.name, sha256=digest,
               tables=len(manifest["tables"]), files=len(manifest["files"]))
    report(total, total, gettext_noop("done"))
    return ExportResult(path=target, sha256=digest, manifest=manifest)


def _figures_in(snap: psycopg.Connection, schema: str) -> dict[str, dict]:
    tables = [t for (t,) in snap.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relkind = 'r' ORDER BY c.relname", [schema]).fetchall()]
    figures = {}
    for table in tables:
        rows, checksum = snap.execute(
            f'SELECT count(*), coalesce(sum((\'x\' || substr(md5(t::text), 1, 15))::bit(60)::bigint), 0)::text '
            f'FROM "{schema}"."{table}" AS t').fetchone()
        figures[table] = {"rows": rows, "checksum": checksum}
    return figures


def _partitions_in(snap: psycopg.Connection, schema: str) -> list[dict]:
    return [{"table": t, "parent": p, "bound": b} for t, p, b in snap.execute(
        "SELECT c.relname, p.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
        "JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relispartition AND c.relkind IN ('r', 'p') "
        "ORDER BY c.relname", [schema]).fetchall()]


def _add_files(tar: tarfile.TarFile, tenant: Tenant) -> list[dict]:
    listed = []
    with tenant_context(tenant):
        for name in arc.walk_storage(default_storage):
            info = tarfile.TarInfo(arc.FILES + name)
            info.size, info.mtime, info.mode = default_storage.size(name), int(time.time()), 0o600
            with default_storage.open(name, "rb") as stored:
                reader = _Hashing(stored)
                tar.addfile(info, io.BufferedReader(reader))
            listed.append({"name": name, "size": info.size, "sha256": reader.digest.hexdigest()})
    connection.set_schema_to_public()
    return listed


def backup_tenant(*, tenant: Tenant, acting_user: User | None, progress: Progress | None = None,
                  audit_action: str = "tenant.backed_up") -> ExportResult:
    """An export to the configured backup location, under a timestamped name."""
    return export_tenant(tenant=tenant, to=backup_dir(), acting_user=acting_user, progress=progress,
                         audit_action=audit_action)


# --- restoring -----------------------------------------------------------------------------


_ANY_FREE_SCHEMA = "restore_candidate"  # passes validate_onboarding's schema checks, which are redone below


def _check_restorable(manifest: dict, *, schema: str, domain: str, division_code: str, name: str) -> None:
    row = manifest["tenant"]
    errors = validate_onboarding(name=name, division_code=division_code, level=row["level"], domain=domain,
                                 parent_code=row["parent_code"], schema_name=_ANY_FREE_SCHEMA)
    # The schema is named by --as, not by the domain: its own checks, under its own name.
    if not SCHEMA.match(schema) or schema in RESERVED_SCHEMAS:
        errors.setdefault("schema", []).append(_("%(schema)s is not a usable schema name: a letter, then letters, "
                                                  "digits or underscores.") % {"schema": schema})
    else:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [schema])
            if cursor.fetchone() or Tenant.objects.filter(schema_name=schema).exists():
                errors.setdefault("schema", []).append(
                    _("The schema %(schema)s already exists; a restore only ever makes a new one.") % {"schema": schema})
    try:
        ensure_template_current()
    except TemplateBehind as exc:
        errors.setdefault("__all__", []).append(
            _("The template schema is behind; run `civicgrid migrate` first. (%(detail)s)") % {"detail": exc})
    else:
        ours = applied_migration_keys(TEMPLATE_SCHEMA)
        theirs = {tuple(key) for key in manifest["migrations"]}
        if ours != theirs:
            errors.setdefault("__all__", []).append(
                _("The archive's migrations differ from this installation's: %(missing)d missing here, "
                  "%(extra)d not in the archive (for example %(example)s). Restore it with the version that "
                  "wrote it (%(version)s), migrate that, and export again.") % {
                    "missing": len(theirs - ours), "extra": len(ours - theirs),
                    "example": ", ".join(".".join(k) for k in sorted(theirs ^ ours)[:3]),
                    "version": manifest.get("civicgrid_version", "?")})
    if errors:
        raise RestoreRefused(errors)


def _restore_users(data: bytes, tenant: Tenant) -> tuple[int, int]:
    """The archive's accounts: one still here (the same id and name) is kept as it is, so a
    copy restored beside its original shares its staff's accounts; one gone since (the
    tenant was purged) comes back with its id, the restored tenant as its home."""
    kept = created = 0
    for item in serializers.deserialize("json", data):
        user = item.object
        existing = User.objects.filter(pk=user.pk).first()
        if existing is not None:
            if existing.username != user.username:
                raise RestoreRefused({"users": [_("Account %(id)s is now %(username)s, not %(archived)s: the "
                                                  "archive's staff cannot be matched to accounts.") % {
                    "id": user.pk, "username": existing.username, "archived": user.username}]})
            kept += 1
            continue
        if User.objects.filter(username=user.username).exists():
            raise RestoreRefused({"users": [_("The user name %(username)s is taken by another account.")
                                            % {"username": user.username}]})
        user.home_tenant = tenant
        item.save()
        created += 1
    return kept, created


def restore_tenant(*, source: str | Path, schema: str, domain: str, acting_user: User | None,
                   division_code: str | None = None, name: str | None = None,
                   progress: Progress | None = None) -> Tenant:
    report = progress or _quiet
    connection.set_schema_to_public()
    schema, domain = schema.strip().lower(), domain.strip().lower()
    total = 8
    report(0, total, gettext_noop("reading the archive"))
    archive = arc.Archive.open(source)
    try:
        manifest = archive.manifest
        row = manifest["tenant"]
        division_code = (division_code or row["division_code"]).strip()
        name = (name or row["name"]).strip()
        _check_restorable(manifest, schema=schema, domain=domain, division_code=division_code, name=name)
        with tempfile.TemporaryDirectory(prefix="civicgrid-restore-") as scratch:
            dump = Path(scratch) / arc.SCHEMA_DUMP
            archive.extract_to(arc.SCHEMA_DUMP, dump)
            tenant, copied = _restore_into_new_schema(
                archive, dump, schema=schema, domain=domain, division_code=division_code, name=name,
                acting_user=acting_user, report=report, total=total)
    finally:
        archive.close()
    report(7, total, gettext_noop("re-indexing search"))
    _reindex_if_needed(tenant)
    report(total, total, gettext_noop("done"))
    return tenant


def _restore_into_new_schema(archive, dump, *, schema, domain, division_code, name, acting_user, report, total):
    manifest, row = archive.manifest, archive.manifest["tenant"]
    copied: list[str] = []
    new_tenant = None
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"onboard:{division_code}"])
            report(1, total, gettext_noop("cloning the template schema"))
            new_tenant = Tenant.objects.create(
                schema_name=schema, name=name, division_code=division_code, level=row["level"],
                parent=Tenant.objects.filter(division_code=row["parent_code"]).first() if row["parent_code"] else None,
                status=Tenant.Status.PROVISIONING, active_plugins=row.get("active_plugins") or [])
            clone_template(schema)
            arc.create_partitions(schema, manifest.get("partitions", []))
            with connection.cursor() as cursor:
                # The clone's own record of its migrations gives way to the archive's (the
                # same set, checked above; the archive's has the original dates).
                cursor.execute(f'DELETE FROM "{schema}".django_migrations')
            report(2, total, gettext_noop("loading rows"))
            triggered = arc.user_triggers(schema)
            arc.set_user_triggers(schema, triggered, enabled=False)
            arc.load_data(dump, source_schema=row["schema_name"], target_schema=schema)
            arc.set_user_triggers(schema, triggered, enabled=True)
            report(3, total, gettext_noop("restoring accounts and domains"))
            _restore_users(archive.read(arc.USERS), new_tenant)
            Domain.objects.create(domain=domain, tenant=new_tenant, is_primary=True)
            for activation in manifest.get("activations", []):
                if CatalogEntry.objects.filter(pk=activation["plugin"]).exists():
                    Activation.objects.create(tenant=new_tenant, plugin_id=activation["plugin"],
                                              enabled=activation["enabled"], enabled_at=activation["enabled_at"],
                                              disabled_at=activation["disabled_at"])
            report(4, total, gettext_noop("proving the rows equal"))
            _prove_equal(schema, manifest["tables"])
            report(5, total, gettext_noop("copying files"))
            _copy_files(archive, new_tenant, copied)
            report(6, total, gettext_noop("activating"))
            connection.set_schema_to_public()
            new_tenant.status = Tenant.Status.ACTIVE
            new_tenant.save(update_fields=["status"])
            record(action="tenant.restored", actor=acting_user, target=new_tenant, archive=archive.path.name,
                   sha256=arc.sha256_of(archive.path), source_schema=row["schema_name"], domain=domain,
                   tables=len(manifest["tables"]), files=len(copied))
    except IntegrityError as exc:
        _remove_files(new_tenant, copied)
        raise RestoreRefused({"__all__": [_("The archive's rows do not hold together: %(detail)s")
                                          % {"detail": str(exc).splitlines()[0]}]}) from exc
    except BaseException:
        _remove_files(new_tenant, copied)
        raise
    finally:
        connection.set_schema_to_public()
    return new_tenant, copied


def _prove_equal(schema: str, expected: dict[str, dict]) -> None:
    found = arc.schema_figures(schema)
    problems = [f"{table}: {found.get(table)} ≠ {figures}" for table, figures in expected.items()
                if found.get(table) != figures]
    problems += [f"{table}: not in the archive" for table in found.keys() - expected.keys()]
    if problems:
        raise RestoreRefused({"__all__": [_("The restored rows differ from the archive's: %(problems)s")
                                          % {"problems": "; ".join(problems[:5])}]})


def _copy_files(archive: arc.Archive, tenant: Tenant, copied: list[str]) -> None:
    with tenant_context(tenant):
        for entry in archive.manifest["files"]:
            stream = archive.file_stream(entry["name"])
            data = stream.read() if stream else None
            if data is None or hashlib.sha256(data).hexdigest() != entry["sha256"]:
                raise RestoreRefused({"files": [_("The archive's copy of %(name)s is missing or damaged.")
                                                % {"name": entry["name"]}]})
            saved = default_storage.save(entry["name"], File(io.BytesIO(data), name=entry["name"]))
            copied.append(saved)
            if saved != entry["name"]:
                raise RestoreRefused({"files": [_("%(name)s already exists under the new tenant's prefix.")
                                                % {"name": entry["name"]}]})


def _remove_files(tenant: Tenant | None, copied: list[str]) -> None:
    if tenant is None or not copied:
        return
    with tenant_context(tenant):
        for name in copied:
            default_storage.delete(name)


def _reindex_if_needed(tenant: Tenant) -> None:
    """The PostgreSQL backend's documents came back as rows (proven equal above); another
    backend holds them outside the schema, so they are rebuilt from the restored cases."""
    if backend().name == "postgres":
        return
    from civicgrid.search.indexing import reindex

    with tenant_context(tenant):
        reindex()
