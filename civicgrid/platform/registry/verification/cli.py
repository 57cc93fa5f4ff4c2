"""civicgrid registry verify --tenant <schema> --file F [--as <username>] [--out result.csv|.xlsx]

Without ``--as`` the command runs as the system (the whole tenant, audited as
"system"): whoever runs it already holds the server. With ``--as`` it runs with that
staff member's role and scope, exactly as on the page. Without ``--out`` the result
CSV goes to standard output and the summary to standard error.
"""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from django.http import Http404
from django_tenants.utils import tenant_context

from civicgrid.tenants.commands import tenant_argument

from .actions import Outcome, count_outcomes, verify_people
from .tabular import read_rows, results_csv, results_xlsx


def configure(parser) -> None:
    parser.add_argument("--tenant", required=True, help="the tenant's schema name or division code")
    parser.add_argument("--file", required=True, help="CSV (UTF-8 or GBK) or XLSX; the first line names the columns")
    parser.add_argument("--as", dest="as_user", metavar="USERNAME",
                        help="verify as this staff member (their role and scope); default: the system")
    parser.add_argument("--out", help="write the results here (.csv or .xlsx); default: CSV to standard output")
    parser.add_argument("--name-column", help="header of the name column, if not 姓名 or name")
    parser.add_argument("--id-column", help="header of the ID number column, if not 身份证号 or id_number")
    parser.add_argument("--address-column", help="header of the address column, if not 地址 or address")


def _staff(username: str):
    from civicgrid.platform.accounts.models import User
    from civicgrid.platform.accounts.selectors import staff_profile_for

    user = User.objects.filter(username=username).first()
    staff = staff_profile_for(user) if user is not None else None
    if staff is None:
        raise CommandError(f"{username!r} is not an active staff member of this tenant")
    return staff


def run(command, *, tenant, file, as_user=None, out=None, name_column=None, id_column=None, address_column=None,
        **_options) -> None:
    path = Path(file)
    if out and Path(out).suffix.lower() not in (".csv", ".xlsx"):
        raise CommandError("--out must end in .csv or .xlsx")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CommandError(f"cannot read {file}: {exc.strerror}") from exc
    mapping = {k: v for k, v in (("name", name_column), ("id_number", id_column), ("address", address_column)) if v}
    with tenant_context(tenant_argument(tenant)):
        staff = _staff(as_user) if as_user else None
        try:
            rows = read_rows(data, path.name, mapping)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        try:
            results = verify_people(staff=staff, rows=rows, channel="cli")
        except Http404 as exc:
            raise CommandError(f"{as_user!r} may not verify lists of people") from exc
    counts = count_outcomes(results)
    summary = f"{len(results)} rows: " + ", ".join(f"{o}={counts[o]}" for o in Outcome.values)
    if out:
        body = results_xlsx(results) if out.lower().endswith(".xlsx") else results_csv(results)
        Path(out).write_bytes(body)
        command.stdout.write(f"{summary}\nwrote {out}")
    else:
        command.stdout.write(results_csv(results).decode("utf-8").lstrip("\ufeff"), ending="")
        command.stderr.write(summary)
