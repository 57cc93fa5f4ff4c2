"""The documented point-in-time recovery (docs/operations.md), run for real.

A throwaway cluster archives its WAL with compose.yaml's own archive_command;
deploy/postgres/base-backup.sh backs it up; rows A are written, the time noted, rows B written
after it; deploy/postgres/restore-to-time.sh prepares a new data directory for that time, and the
server started on it must recover and promote itself with A and without B. As root, the server
programs and the scripts run as the machine's ``postgres`` user (tests/pg_cluster.py), as they
do as the server's user in the database container.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from tests.deploy.helpers import COMPOSE, DEPLOY, load_yaml
from tests.pg_cluster import Server, run, server_binaries, server_owner

SCRIPTS = DEPLOY / "postgres"
ROWS_A, ROWS_B = ("a1", "a2", "a3"), ("b1", "b2")


def compose_archive_command(archive: Path) -> str:
    """compose.yaml's archive_command, writing to ``archive`` instead of the /wal-archive volume."""
    command = " ".join(load_yaml(COMPOSE)["services"]["db"]["command"])
    found = re.search(r"'archive_command=([^']+)'", command)
    assert found, "compose.yaml's db service sets no archive_command"
    return found.group(1).replace("/wal-archive", str(archive))


def script(as_owner: list[str], name: str, *args, env: dict[str, str] | None = None) -> str:
    """Runs a deploy/postgres script as the server's user; its last line of output."""
    done = subprocess.run([*as_owner, "env", *(f"{k}={v}" for k, v in (env or {}).items()),
                           "sh", SCRIPTS / name, *map(str, args)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"{name} failed: {done.stdout}{done.stderr}"
    return done.stdout.strip().splitlines()[-1]


def sql(server: Server, statement: str) -> str:
    done = subprocess.run([server.bindir / "psql", "-XAtq", "-v", "ON_ERROR_STOP=1", f"{server.url}/postgres",
                           "-c", statement], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def switch_and_wait_for_archive(server: Server, archive: Path) -> None:
    """Closes the current WAL segment and waits until archive_command has copied it."""
    segment = sql(server, "SELECT pg_walfile_name(pg_switch_wal())")
    deadline = time.monotonic() + 15
    while not (archive / segment).exists():
        assert time.monotonic() < deadline, f"{segment} was not archived"
        time.sleep(0.1)


@pytest.fixture
def home():
    as_owner, bindir = server_owner(), server_binaries(15)
    if as_owner is None or bindir is None:
        pytest.skip("needs PostgreSQL 15+ server programs (initdb, pg_ctl, pg_basebackup) and, as root, "
                    "a postgres OS user to run them")
    path = Path(tempfile.mkdtemp(prefix="civicgrid-pitr-"))  # not pytest's: the postgres user may not enter it
    if as_owner:
        shutil.chown(path, "postgres")
    try:
        yield path, bindir, as_owner
    finally:
        shutil.rmtree(path, ignore_errors=True)


def test_compose_archives_the_wal_and_keeps_the_backups_on_volumes():
    db = load_yaml(COMPOSE)["services"]["db"]
    command = " ".join(db["command"])
    for flag in ("wal_level=replica", "archive_mode=on", "archive_timeout=60", "exec docker-entrypoint.sh postgres"):
        assert flag in command, flag
    assert {"wal-archive:/wal-archive", "pgbackups:/backups"} <= set(db["volumes"])
    assert {"wal-archive", "pgbackups"} <= set(load_yaml(COMPOSE)["volumes"])
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])


def test_a_base_backup_and_the_wal_archive_restore_the_cluster_to_a_point_in_time(home):
    path, bindir, as_owner = home
    archive, backups = path / "wal-archive", path / "backups"
    primary, restored = Server("primary", path, bindir, as_owner), Server("restored", path, bindir, as_owner)
    try:
        run([*as_owner, bindir / "initdb", "-D", primary.data, "-A", "trust", "-U", "postgres", "--no-sync",
             "-E", "UTF8", "--locale=C"])
        run([*as_owner, "mkdir", archive])
        with open(primary.data / "postgresql.conf", "a") as conf:
            conf.write(f"wal_level = replica\narchive_mode = on\narchive_timeout = 60\n"
                       f"archive_command = '{compose_archive_command(archive)}'\n")
        primary.start()
        sql(primary, "CREATE TABLE marks (note text PRIMARY KEY, at timestamptz DEFAULT clock_timestamp())")

        base = Path(script(as_owner, "base-backup.sh", backups,
                           env={"PATH": f"{bindir}:{os.environ['PATH']}", "PGHOST": "127.0.0.1",
                                "PGPORT": str(primary.port), "PGUSER": "postgres"}))
        assert base.parent == backups and base.name.startswith("base-")
        assert {"base.tar.gz", "backup_manifest"} <= {p.name for p in base.iterdir()}

        sql(primary, "INSERT INTO marks (note) VALUES " + ", ".join(f"('{n}')" for n in ROWS_A))
        target = sql(primary, "SELECT clock_timestamp()")  # after A committed, before B began
        switch_and_wait_for_archive(primary, archive)
        time.sleep(1.1)
        sql(primary, "INSERT INTO marks (note) VALUES " + ", ".join(f"('{n}')" for n in ROWS_B))
        switch_and_wait_for_archive(primary, archive)
        primary.stop()

        script(as_owner, "restore-to-time.sh", base, archive, target, restored.data)
        assert (restored.data / "recovery.signal").exists()
        restored.start()
        deadline = time.monotonic() + 20
        while sql(restored, "SELECT pg_is_in_recovery()") != "f":
            assert time.monotonic() < deadline, "recovery did not end: " + restored.log.read_text()[-2000:]
            time.sleep(0.1)

        assert sql(restored, "SELECT string_agg(note, ',' ORDER BY note) FROM marks") == ",".join(ROWS_A)
        log = restored.log.read_text()
        assert "recovery stopping before commit of transaction" in log, log[-2000:]  # stopped by the time
        sql(restored, "INSERT INTO marks (note) VALUES ('after')")  # promoted: it takes writes
    finally:
        restored.stop("immediate")
        primary.stop("immediate")


def test_the_restore_script_never_writes_over_a_data_directory(tmp_path):
    base, archive, data = tmp_path / "base-1", tmp_path / "wal-archive", tmp_path / "data"
    for folder in (base, archive, data):
        folder.mkdir()
    subprocess.run(["tar", "-czf", base / "base.tar.gz", "-T", "/dev/null"], check=True)
    (data / "PG_VERSION").write_text("17\n")
    done = subprocess.run(["sh", SCRIPTS / "restore-to-time.sh", base, archive, "2026-12-07 10:00:00+08", data],
                          capture_output=True, text=True)
    assert done.returncode == 2 and "is not empty" in done.stderr
    assert [p.name for p in data.iterdir()] == ["PG_VERSION"]
