"""civicgrid api token create | list | revoke  (always for one tenant: --tenant)

``token create`` prints the token alone on stdout, so scripts can capture it
(``TOKEN=$(civicgrid api token create --tenant shangcheng …)``); it is never shown again."""

from __future__ import annotations

from datetime import datetime, time

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django_tenants.utils import tenant_context

from civicgrid.platform.accounts.models import User
from civicgrid.platform.api.tokens import actions, selectors
from civicgrid.platform.api.tokens.scopes import SCOPES
from civicgrid.tenants.commands import tenant_argument


class Command(BaseCommand):
    help = "Issue, list and revoke a tenant's API tokens (one per integration)."

    def add_arguments(self, parser):
        groups = parser.add_subparsers(dest="group", required=True)
        token = groups.add_parser("token", help="API tokens")
        sub = token.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Issue a token and print it (once).")
        listing = sub.add_parser("list", help="List the tenant's tokens (never the tokens themselves).")
        revoke = sub.add_parser("revoke", help="Revoke a token by its number from list.")
        for p in (create, listing, revoke):
            p.add_argument("--tenant", required=True, help="schema name or division code")
        create.add_argument("--label", required=True, help="the integration the token is for")
        create.add_argument("--acts-as", required=True, help="user name of the staff account it acts as")
        create.add_argument("--scopes", required=True, help=f"comma-separated, of: {', '.join(SCOPES)}, and "
                            "module:<plugin_id>:read|write of a module switched on in the tenant")
        create.add_argument("--expires", required=True, help="YYYY-MM-DD, a year from today at most")
        revoke.add_argument("token_id", type=int)

    def handle(self, *args, group, action, tenant, **options):
        with tenant_context(tenant_argument(tenant)):
            try:
                getattr(self, f"handle_{action}")(**options)
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from exc

    def handle_create(self, *, label, acts_as, scopes, expires, **_):
        user = User.objects.filter(username=acts_as).first()
        try:
            day = datetime.strptime(expires, "%Y-%m-%d").date()
        except ValueError as exc:
            raise CommandError("--expires must be a date as YYYY-MM-DD") from exc
        expires_at = timezone.make_aware(datetime.combine(day, time(23, 59, 59)))
        _row, token = actions.create_token(label=label, scopes=[s.strip() for s in scopes.split(",") if s.strip()],
                                           expires_at=expires_at, acts_as=user, acting_user=None)
        self.stdout.write(token)

    def handle_list(self, **_):
        now = timezone.now()
        for row in selectors.tokens():
            state = ("revoked" if row.revoked_at else "expired" if row.expires_at <= now else "active")
            used = f"{timezone.localtime(row.last_used_at):%Y-%m-%d %H:%M}" if row.last_used_at else "never"
            self.stdout.write(f"{row.pk}\t{row.label}\t{row.prefix}…\t{row.acts_as.username}\t{','.join(row.scopes)}"
                              f"\texpires {timezone.localtime(row.expires_at):%Y-%m-%d}\tlast used {used}\t{state}")

    def handle_revoke(self, *, token_id: int, **_):
        row = actions.revoke_token(token_id=token_id, acting_user=None)
        self.stdout.write(f"revoked {row.pk}\t{row.label}")
