"""The registry benchmarks of issue 3, one after another, each in its own process
and scratch database:

- registry_import.py: import 1,000,000 persons (rows/s), then re-import (all unchanged);
- registry_verify.py: verify 70,000 rows against 1,000,000, beside a per-row ORM loop (ratio);
- registry_geo.py: point → grid lookups per second over 2,000 grids, beside a naive scan (ratio).

Run from the repository root with DATABASE_URL and REDIS_URL set:
    .venv/bin/python bench/registry.py [import|verify|geo ...]
"""

import subprocess
import sys
import time
from pathlib import Path

PARTS = {"import": "registry_import.py", "verify": "registry_verify.py", "geo": "registry_geo.py"}


def main(names: list[str]) -> int:
    here = Path(__file__).parent
    failed = 0
    for name in names or list(PARTS):
        print(f"=== {name} ({PARTS[name]})", flush=True)
        started = time.perf_counter()
        done = subprocess.run([sys.executable, str(here / PARTS[name])])
        print(f"=== {name} finished in {time.perf_counter() - started:.0f}s with exit code {done.returncode}",
              flush=True)
        failed += done.returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
