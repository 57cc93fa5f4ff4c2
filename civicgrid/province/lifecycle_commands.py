"""The data-lifecycle half of ``civicgrid tenants``: export, backup, restore, offboard, purge-due.

Kept apart so the command module stays a list of sub-commands; each handler parses, shows
progress with tqdm and calls one action (``lifecycle``, ``offboarding``)."""

from __future__ import annotations

from django.core.management.base import CommandError
from django.utils.translation import gettext
from tqdm import tqdm

from civicgrid.tenants.commands import tenant_argument

from . import archive, lifecycle, offboarding


def add_lifecycle_arguments(sub) -> None:
    export = sub.add_parser("export", help="Write one archive of a tenant: its schema, files and search documents.")
    export.add_argument("--tenant", required=True, help="division code or schema name")
    export.add_argument("--to", required=True, help="an archive file (….tar) or a directory for a timestamped one")
    backup = sub.add_parser("backup", help="Export a tenant to the backup location under a timestamped name.")
    backup.add_argument("--tenant", required=True)
    restore = sub.add_parser("restore", help="Restore an archive into a new schema (never over an existing one).")
    restore.add_argument("--from", dest="source", required=True, help="the archive file")
    restore.add_argument("--as", dest="schema", required=True, help="the new schema's name")
    restore.add_argument("--domain", required=True, help="the restored tenant's host name")
    restore.add_argument("--division-code", help="when the archive's code is still in use (a copy beside the original)")
    restore.add_argument("--name", help="the restored tenant's name (default: the archive's)")
    offboard = sub.add_parser("offboard", help="Suspend a tenant, archive it, and delete it after a grace period.")
    offboard.add_argument("--tenant", required=True)
    offboard.add_argument("--grace-days", type=int, default=offboarding.DEFAULT_GRACE_DAYS)
    offboard.add_argument("--reason", default="")
    sub.add_parser("purge-due", help="Delete the tenants whose offboarding grace period is over.")


def _bar(description: str):
    bar = tqdm(total=1, desc=description, unit="step")

    def show(done, total, step):
        bar.total, bar.n = total, done
        bar.set_postfix_str(gettext(step))
        bar.refresh()

    return bar, show


class LifecycleCommands:
    def handle_export(self, **o):
        self._export(tenant_argument(o["tenant"]), to=o["to"])

    def handle_backup(self, **o):
        self._export(tenant_argument(o["tenant"]), to=None)

    def _export(self, tenant, *, to):
        bar, show = _bar(f"exporting {tenant.schema_name}")
        try:
            if to is None:
                result = lifecycle.backup_tenant(tenant=tenant, acting_user=None, progress=show)
            else:
                result = lifecycle.export_tenant(tenant=tenant, to=to, acting_user=None, progress=show)
        except archive.ArchiveError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            bar.close()
        m = result.manifest
        self.stdout.write(self.style.SUCCESS(f"{result.path}"))
        self.stdout.write(f"sha256 {result.sha256}  tables {len(m['tables'])}  "
                          f"rows {sum(t['rows'] for t in m['tables'].values())}  files {len(m['files'])}")

    def handle_restore(self, **o):
        bar, show = _bar(f"restoring as {o['schema']}")
        try:
            tenant = lifecycle.restore_tenant(source=o["source"], schema=o["schema"], domain=o["domain"],
                                              division_code=o["division_code"], name=o["name"], acting_user=None,
                                              progress=show)
        except lifecycle.RestoreRefused as refused:
            raise CommandError("\n".join(f"{field if field != '__all__' else 'error'}: {message}"
                                         for field, messages in refused.errors.items()
                                         for message in messages)) from refused
        except archive.ArchiveError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            bar.close()
        self.stdout.write(self.style.SUCCESS(f"{tenant} is active at {tenant.primary_domain} "
                                             f"(schema {tenant.schema_name})"))

    def handle_offboard(self, **o):
        bar, show = _bar(f"offboarding {o['tenant']}")
        try:
            record = offboarding.offboard_tenant(tenant=tenant_argument(o["tenant"]), grace_days=o["grace_days"],
                                                 reason=o["reason"], acting_user=None, progress=show)
        except offboarding.OffboardingRefused as exc:
            raise CommandError(str(exc)) from exc
        finally:
            bar.close()
        self.stdout.write(self.style.SUCCESS(
            f"{record.name} ({record.division_code}) is suspended; archive {record.archive_name} "
            f"(sha256 {record.archive_sha256}); deletion due {record.due_at:%Y-%m-%d %H:%M}. "
            f"`civicgrid tenants resume {record.division_code}` cancels it until then."))

    def handle_purge_due(self, **o):
        purged = offboarding.purge_due(acting_user=None)
        for record in purged:
            self.stdout.write(f"purged {record.name} ({record.division_code}), schema {record.schema_name}")
        self.stdout.write(f"{len(purged)} tenant(s) purged")
