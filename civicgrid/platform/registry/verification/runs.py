"""A console verification's results, kept for a while so the page can paginate and
download them without verifying (and auditing) again.

Kept in the cache, not the database: results are a working copy the staff member
reads or downloads now, not a record (the audit row is the record). Cache keys
carry the schema (django-tenants key function), and only the staff member who ran
the verification may read it; anyone else, and an expired run, get 404.
Only masked ID numbers are stored.
"""

from __future__ import annotations

import json
import uuid
import zlib
from dataclasses import dataclass

from django.core.cache import cache
from django.http import Http404
from django.utils import timezone

from civicgrid.platform.accounts.staff.models import StaffProfile

from .actions import Result

KEEP_SECONDS = 2 * 60 * 60


@dataclass
class Run:
    id: str
    owner_id: int
    source: str
    created_at: str
    results: list[Result]


def _key(run_id: str) -> str:
    return f"registry-verify:{run_id}"


def save_run(*, staff: StaffProfile, results: list[Result], source: str) -> str:
    run_id = uuid.uuid4().hex
    packed = [[r.line, r.name, r.id_number, r.address, r.outcome, list(r.differences), r.reason] for r in results]
    payload = {"owner": staff.user_id, "source": source, "created_at": timezone.now().isoformat(),
               "results": packed}
    # Compressed: a 100,000-row run is ~10 MB of JSON and ~1 MB compressed.
    cache.set(_key(run_id), zlib.compress(json.dumps(payload, ensure_ascii=False).encode(), 3), KEEP_SECONDS)
    return run_id


def load_run(*, staff: StaffProfile, run_id: str) -> Run:
    stored = cache.get(_key(run_id))
    if stored is None:
        raise Http404
    payload = json.loads(zlib.decompress(stored))
    if payload["owner"] != staff.user_id:
        raise Http404
    results = [Result(line, name, id_number, address, outcome, tuple(differences), reason)
               for line, name, id_number, address, outcome, differences, reason in payload["results"]]
    return Run(id=run_id, owner_id=payload["owner"], source=payload["source"], created_at=payload["created_at"],
               results=results)
