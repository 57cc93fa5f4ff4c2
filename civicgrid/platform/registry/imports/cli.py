"""civicgrid registry import --tenant T --file F --department D [--map 姓名=name …] [--as USER]

Runs in this process (a file of any size is streamed from disk), draws a
progress bar, prints the counts and writes the reconciliation report beside
the file (or into ``--report-dir``). A rejected or failed batch exits non-zero.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from django.http import Http404
from django.utils.translation import gettext as _
from django_tenants.utils import tenant_context
from tqdm import tqdm

from . import targets
from .headers import guess_mapping
from .models import PERSONS, Field, ImportBatch

FIELD_ALIASES = {"grid_code": Field.GRID, "household_number": Field.HOUSEHOLD, "id": Field.ID_NUMBER}


def configure(parser) -> None:
    parser.add_argument("--tenant", required=True, help="schema name or division code")
    parser.add_argument("--file", required=True, help="CSV (UTF-8 or GBK) or XLSX")
    parser.add_argument("--department", required=True, help="code of the source department, e.g. D-PSB")
    parser.add_argument("--target", default=PERSONS,
                        help="what the file holds: persons (default) or a switched-on module's registry, "
                             "e.g. food_safety.businesses")
    parser.add_argument("--map", action="append", default=[], metavar="HEADER=FIELD",
                        help=f"a column of the file and what it is ({', '.join(Field.values)}); "
                             "columns with well-known names are mapped without it")
    parser.add_argument("--as", dest="as_user", help="user name of the staff member importing (default: none)")
    parser.add_argument("--report-dir", help="where to write the report (default: beside the file)")
    parser.add_argument("--no-progress", action="store_true")


def parse_mapping(pairs: list[str]) -> dict[str, str]:
    mapping = {}
    for pair in pairs:
        column, sep, field = pair.rpartition("=")
        if not sep or not column.strip():
            raise CommandError(_("--map takes HEADER=FIELD, not %(value)s") % {"value": pair})
        field = field.strip()
        mapping[column.strip()] = str(FIELD_ALIASES.get(field, field))
    return mapping


def _tenant(code: str):
    from civicgrid.tenants.selectors import tenant_by_key

    tenant = tenant_by_key(code)
    if tenant is None:
        raise CommandError(_("There is no tenant %(code)s.") % {"code": code})
    return tenant


def _staff(username: str | None):
    if not username:
        return None
    from civicgrid.platform.accounts.models import User
    from civicgrid.platform.accounts.selectors import staff_profile_for

    from .selectors import can_import

    user = User.objects.filter(username=username).first()
    staff = staff_profile_for(user) if user else None
    if not can_import(staff):
        raise CommandError(_("%(user)s is not a county admin or command-centre operator of this tenant.")
                           % {"user": username})
    return staff


def _messages(exc: ValidationError) -> str:
    return "\n".join(exc.messages)


def run(command, *, tenant, file, department, map, as_user=None, report_dir=None, no_progress=False,
        target=PERSONS, **_options):
    from . import actions, reports

    path = Path(file)
    if not path.is_file():
        raise CommandError(_("There is no file %(path)s.") % {"path": file})
    with tenant_context(_tenant(tenant)):
        staff = _staff(as_user)
        batch = None
        try:
            batch = actions.open_batch(staff=staff, department_code=department, file_name=path.name, path=str(path),
                                       target=target)
            module_target = targets.plugin_target(target)
            if map:
                mapping = parse_mapping(map)
            elif module_target is None:
                mapping = guess_mapping(batch.header)
            else:
                mapping = targets.guess(module_target, batch.header)
            actions.map_columns(staff=staff, batch=batch, column_mapping=mapping)
        except ValidationError as exc:
            if batch is not None:
                actions.discard_batch(staff=staff, batch=batch)  # refused at once: leave nothing behind
            raise CommandError(_messages(exc)) from exc
        except Http404 as exc:
            raise CommandError(_("%(user)s may not import here.") % {"user": as_user}) from exc

        bar = tqdm(total=batch.file_size, desc=f"import {path.name}", unit="B", unit_scale=True,
                   disable=no_progress, mininterval=0.5)

        def show(phase, done, total):
            if phase == "reading" and total:
                bar.total, bar.n = total, done
            elif phase == "done":
                bar.n = bar.total or 0
            bar.set_postfix_str(phase, refresh=False)
            bar.refresh()

        try:
            batch = actions.run_import(batch=batch, progress=show)
        finally:
            bar.close()
        out = command.stdout
        out.write(_("batch %(id)s: %(status)s") % {"id": batch.pk, "status": batch.get_status_display()})
        counts = batch.counts()
        out.write(" ".join(f"{key}={value}" for key, value in counts.items()))
        if batch.status == ImportBatch.Status.FAILED:
            raise CommandError(batch.error)
        folder = Path(report_dir) if report_dir else path.resolve().parent
        xlsx, csv_path = reports.write_reports(batch, folder)
        out.write(_("report: %(path)s") % {"path": os.fspath(xlsx)})
        out.write(_("report: %(path)s") % {"path": os.fspath(csv_path)})
        if batch.status == ImportBatch.Status.REJECTED:
            raise CommandError(_("Rejected: %(n)d bad rows; nothing was applied. The report lists every one.")
                               % {"n": batch.bad_rows})
