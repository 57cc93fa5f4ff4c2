"""civicgrid org import-tree | import-grids | locate  (always for one tenant: --tenant)"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import tenant_context
from tqdm import tqdm

from civicgrid.platform.org import geo, imports
from civicgrid.tenants.commands import tenant_argument


class Command(BaseCommand):
    help = "Import a tenant's org tree and grid boundaries; find the grid of a point."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        tree = sub.add_parser("import-tree", help="Import the org tree from CSV (code, name, parent_code).")
        grids = sub.add_parser("import-grids", help="Import grid boundaries from a GeoJSON FeatureCollection.")
        locate = sub.add_parser("locate", help="Print the grid holding a point.")
        for p in (tree, grids, locate):
            p.add_argument("--tenant", required=True, help="schema name or division code")
        for p in (tree, grids):
            p.add_argument("--file", required=True, type=Path)
            p.add_argument("--no-progress", action="store_true")
        locate.add_argument("--lng", required=True, type=float)
        locate.add_argument("--lat", required=True, type=float)

    def handle(self, *args, action, tenant, **options):
        found = tenant_argument(tenant)
        with tenant_context(found):
            getattr(self, f"handle_{action.replace('-', '_')}")(found, **options)


    # --- imports ------------------------------------------------------------------

    def handle_import_tree(self, tenant, **o):
        self._import(imports.import_tree, tenant, **o)

    def handle_import_grids(self, tenant, **o):
        self._import(imports.import_grids, tenant, **o)

    def _import(self, run, tenant, *, file: Path, no_progress: bool, **_):
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {file}: {exc.strerror}") from exc
        bars: dict[str, tqdm] = {}

        def progress(done, total, phase):
            bar = bars.get(phase)
            if bar is None:
                for other in bars.values():
                    other.close()
                bar = bars[phase] = tqdm(total=total, desc=f"{phase} {file.name}", unit="row",
                                         disable=no_progress)
            bar.n = done
            bar.refresh()

        try:
            result = run(data=data, acting_user=None, progress=progress)
        finally:
            for bar in bars.values():
                bar.close()
        if not result.ok:
            raise CommandError("nothing was imported:\n" + "\n".join(f"  {p}" for p in result.problems))
        self.stdout.write(self.style.SUCCESS(
            f"{tenant.schema_name}: {len(result.created)} created, {len(result.updated)} updated, "
            f"{len(result.unchanged)} unchanged"))

    # --- locate -------------------------------------------------------------------

    def handle_locate(self, tenant, *, lng: float, lat: float, **_):
        entries = geo.locator().grids_at(lng, lat)
        if not entries:
            raise CommandError(f"no grid of {tenant.schema_name} holds ({lng}, {lat})")
        self.stdout.write(f"{entries[0].code}\t{entries[0].name}")
        for other in entries[1:]:
            self.stdout.write(f"also {other.code}\t{other.name}")
