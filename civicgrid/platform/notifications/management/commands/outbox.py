"""civicgrid outbox list-failed | retry

``list-failed`` prints the dead letters (deliveries the relay gave up on) of one tenant
(--tenant) or of every ready tenant. ``retry ID…`` (one tenant, --tenant) or ``retry --all``
(one tenant, or every tenant without --tenant) tries them once now and says how each went;
one that fails again goes back to the relay's retry schedule."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import schema_context

from civicgrid.platform.notifications.dead_letters import NoSuchDeadLetter, dead_letters, retry_dead_letters
from civicgrid.tenants.commands import tenant_argument
from civicgrid.tenants.selectors import ready_tenant_schemas


class Command(BaseCommand):
    help = "List and retry outbox deliveries that failed until the relay gave up (dead letters)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        listing = sub.add_parser("list-failed", help="List the dead letters.")
        retry = sub.add_parser("retry", help="Try dead letters again now.")
        for p in (listing, retry):
            p.add_argument("--tenant", help="schema name or division code (default: every ready tenant)")
        retry.add_argument("ids", nargs="*", type=int, help="dead letter numbers from list-failed (needs --tenant)")
        retry.add_argument("--all", action="store_true", help="every dead letter")

    def handle(self, *args, action, **options):
        getattr(self, f"handle_{action.replace('-', '_')}")(**options)

    def _schemas(self, tenant: str | None) -> list[str]:
        return [tenant_argument(tenant).schema_name] if tenant else sorted(ready_tenant_schemas())

    def handle_list_failed(self, *, tenant, **_):
        total = 0
        for schema in self._schemas(tenant):
            with schema_context(schema):
                for letter in dead_letters().select_related("event"):
                    total += 1
                    self.stdout.write(
                        f"{schema}  {letter.pk}  {letter.event.topic} (event {letter.event_id}, "
                        f"{letter.event.created_at:%Y-%m-%d %H:%M})  {letter.subscriber}  "
                        f"{letter.attempts} attempts, gave up {letter.dead_at:%Y-%m-%d %H:%M}  {letter.last_error}")
        self.stdout.write(f"{total} dead letter(s)")

    def handle_retry(self, *, tenant, ids, all, **_):
        if bool(ids) == bool(all):
            raise CommandError("name dead letters by number, or give --all")
        if ids and not tenant:
            raise CommandError("numbers belong to one tenant: give --tenant")
        failed = 0
        for schema in self._schemas(tenant):
            with schema_context(schema):
                try:
                    retried = retry_dead_letters(ids=ids or None, acting_user=None)
                except NoSuchDeadLetter as exc:
                    raise CommandError(f"{schema}: no dead letter {', '.join(map(str, exc.ids))}; "
                                       "nothing retried") from exc
            for item in retried:
                letter = item.delivery
                if item.delivered:
                    self.stdout.write(f"{schema}  {letter.pk}  delivered")
                else:
                    failed += 1
                    self.stdout.write(f"{schema}  {letter.pk}  failed again ({letter.last_error}); "
                                      f"retried by the relay from {letter.next_attempt_at:%H:%M:%S}")
        if failed:
            raise CommandError(f"{failed} delivery(ies) failed again")
