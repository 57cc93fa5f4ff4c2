"""civicgrid audit verify | anchor | archive

``verify`` proves the hash chain of one tenant (--tenant), the province (--public) or
all of them (--all), and checks it against the newest anchor of each schema; optionally
re-checks the archive files (--with-archives); it exits non-zero naming the first broken
row or the anchor the chain no longer reaches. ``anchor`` publishes the chain heads of
the same choice of schemas (every schema by default; daily by beat). ``archive`` moves rows older than a date
(at least six months ago) to the tenant's storage and deletes them from the table."""

from __future__ import annotations

import argparse
import datetime

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import schema_context
from tqdm import tqdm

from civicgrid.platform.audit import actions, anchors, archives, verify
from civicgrid.tenants.commands import tenant_argument
from civicgrid.tenants.selectors import every_schema


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain; archive old audit rows."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        check = sub.add_parser("verify", help="Prove the hash chain of the audit trail.")
        which = check.add_mutually_exclusive_group(required=True)
        which.add_argument("--tenant", help="schema name or division code")
        which.add_argument("--public", action="store_true", help="the province's own trail")
        which.add_argument("--all", action="store_true", help="the province and every tenant")
        check.add_argument("--with-archives", action="store_true", help="re-check the archive files too")
        anchor = sub.add_parser("anchor", help="Publish each chain's head (table in public, and storage).")
        where_anchor = anchor.add_mutually_exclusive_group()
        where_anchor.add_argument("--tenant", help="schema name or division code")
        where_anchor.add_argument("--public", action="store_true", help="the province's own trail")
        where_anchor.add_argument("--all", action="store_true", help="the province and every tenant (default)")
        archive = sub.add_parser("archive", help="Archive rows written before a date, then delete them.")
        where = archive.add_mutually_exclusive_group(required=True)
        where.add_argument("--tenant", help="schema name or division code")
        where.add_argument("--public", action="store_true")
        archive.add_argument("--before", required=True, type=_date, help="YYYY-MM-DD, at least six months ago")
        for p in (check, archive):
            p.add_argument("--no-progress", action="store_true")

    def handle(self, *args, action, **options):
        getattr(self, f"handle_{action}")(**options)

    def _schemas(self, *, tenant=None, public=False, all=False, **_) -> list[str]:
        if tenant:
            return [tenant_argument(tenant).schema_name]
        if public:
            return ["public"]
        return every_schema()

    def handle_verify(self, *, with_archives: bool, no_progress: bool, **options):
        broken = []
        for schema in self._schemas(**options):
            with schema_context(schema), self._bar(f"verify {schema}", no_progress) as progress:
                result = verify.verify_rows(progress=progress)
                checked = None
                if result.ok and with_archives:
                    checked = self._recheck_archives()
            if not result.ok:
                broken.append(schema)
                self.stderr.write(self.style.ERROR(
                    f"{schema}: chain broken at row {result.broken_id}: {result.problem}; "
                    f"{result.checked} rows before it are intact"))
                continue
            anchored = anchors.check(schema)
            if not anchored.ok:
                broken.append(schema)
                self.stderr.write(self.style.ERROR(f"{schema}: chain intact but cut or rewritten below its "
                                                   f"anchor: {anchored.problem}"))
                continue
            span = f"rows {result.first_id}–{result.last_id}" if result.checked else "no rows"
            self.stdout.write(f"{schema}: {result.checked} rows checked ({span}), chain intact; "
                              f"head {result.last_hash}; {anchored.named}{' reached' if anchored.anchor else ''}")
            if checked is not None:
                if checked.ok:
                    self.stdout.write(f"{schema}: {len(checked.archives)} archive(s), {checked.rows} archived rows "
                                      f"re-checked, intact")
                else:
                    broken.append(schema)
                    self.stderr.write(self.style.ERROR(f"{schema}: archive broken: {checked.problem}"))
        if broken:
            raise CommandError(f"audit chain broken in: {', '.join(broken)}")

    def handle_anchor(self, *, tenant=None, public=False, **_):
        schemas = self._schemas(tenant=tenant, public=public, all=True)
        published = anchors.anchor_all(schemas)
        for anchor in published:
            self.stdout.write(f"{anchor.schema}: head row {anchor.row_id} {anchor.row_hash} anchored")
        self.stdout.write(f"{len(published)} head(s) anchored" + (f" in {published[0].file}" if published else ""))

    def _recheck_archives(self) -> archives.ArchiveCheck:
        newest = verify.newest_archive()
        if newest is None:
            return archives.ArchiveCheck()
        return archives.recheck(newest.get("manifest", ""), expected_last_hash=newest.get("last_hash", ""))

    def handle_archive(self, *, before: datetime.date, no_progress: bool, **options):
        schema = self._schemas(**options)[0]
        with schema_context(schema), self._bar(f"archive {schema}", no_progress) as progress:
            try:
                result = actions.archive_before(before=before, acting_user=None, progress=progress,
                                                purpose="civicgrid audit archive")
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from exc
        if not result.count:
            self.stdout.write(f"{schema}: no audit rows before {before}")
            return
        self.stdout.write(self.style.SUCCESS(
            f"{schema}: {result.count} rows archived to {result.archive} (manifest {result.manifest}); "
            f"the chain goes on from {result.last_hash}"))

    def _bar(self, label: str, disabled: bool):
        return _Bar(label, disabled)


class _Bar:
    """A tqdm bar that appears on the first progress report (so small chains print none)."""

    def __init__(self, label, disabled):
        self.label, self.disabled, self.bar = label, disabled, None

    def __enter__(self):
        return self.update

    def update(self, done: int, total: int) -> None:
        if self.bar is None:
            self.bar = tqdm(total=total, desc=self.label, unit="row", disable=self.disabled)
        self.bar.n = done
        self.bar.refresh()

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.close()


def _date(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from exc
