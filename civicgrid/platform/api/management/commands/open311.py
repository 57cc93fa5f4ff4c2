"""civicgrid open311 create-key | list-keys | revoke-key  (always for one tenant: --tenant)

``create-key`` prints the key alone on stdout, so scripts can capture it
(``KEY=$(civicgrid open311 create-key --tenant shangcheng)``); it is never
shown again, only its hash is kept."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django_tenants.utils import tenant_context

from civicgrid.platform.api.open311 import keys
from civicgrid.tenants.commands import tenant_argument


class Command(BaseCommand):
    help = "Issue, list and revoke a tenant's Open311 api_keys."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create-key", help="Issue a key and print it (once).")
        listing = sub.add_parser("list-keys", help="List the tenant's keys (never the keys themselves).")
        revoke = sub.add_parser("revoke-key", help="Revoke a key by its number from list-keys.")
        for p in (create, listing, revoke):
            p.add_argument("--tenant", required=True, help="schema name or division code")
        create.add_argument("--label", default="Open311 client", help="the client application the key is for")
        revoke.add_argument("key_id", type=int)

    def handle(self, *args, action, tenant, **options):
        with tenant_context(tenant_argument(tenant)):
            try:
                getattr(self, f"handle_{action.replace('-', '_')}")(**options)
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from exc

    def handle_create_key(self, *, label: str, **_):
        self.stdout.write(keys.create_key(label=label, acting_user=None))

    def handle_list_keys(self, **_):
        for row in keys.keys():
            state = f"revoked {timezone.localtime(row.revoked_at):%Y-%m-%d %H:%M}" if row.revoked_at else "active"
            self.stdout.write(f"{row.pk}\t{row.label}\t{timezone.localtime(row.created_at):%Y-%m-%d %H:%M}\t{state}")

    def handle_revoke_key(self, *, key_id: int, **_):
        row = keys.revoke_key(key_id=key_id, acting_user=None)
        self.stdout.write(f"revoked {row.pk}\t{row.label}")
