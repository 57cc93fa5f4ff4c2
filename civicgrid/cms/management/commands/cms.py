"""civicgrid cms create-site --tenant … --community <org code> --slug …
civicgrid cms sites --tenant …   (one host per line)
civicgrid cms add-editor --tenant … --slug … --username … [--name …]   (the password is asked for)"""

from __future__ import annotations

import getpass

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import tenant_context

from civicgrid.cms import actions
from civicgrid.cms.models import CommunitySite
from civicgrid.tenants.commands import tenant_argument


class Command(BaseCommand):
    help = "Community home sites: make one, list them, add an editor."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create-site", help="Make a community's site on <slug>.<the tenant's host>.")
        create.add_argument("--tenant", required=True, help="schema name or division code")
        create.add_argument("--community", required=True, help="the community's org unit code")
        create.add_argument("--slug", required=True, help="the host name prefix")
        sites = sub.add_parser("sites", help="The tenant's community sites, one host per line.")
        sites.add_argument("--tenant", required=True)
        editor = sub.add_parser("add-editor", help="A community editor for one site.")
        editor.add_argument("--tenant", required=True)
        editor.add_argument("--slug", required=True)
        editor.add_argument("--username", required=True)
        editor.add_argument("--name", default="")

    def handle(self, *args, action, tenant, **options):
        with tenant_context(tenant_argument(tenant)):
            try:
                getattr(self, "handle_" + action.replace("-", "_"))(**options)
            except ValidationError as exc:
                raise CommandError("; ".join(f"{field}: {' '.join(errors)}" if field != "__all__" else " ".join(errors)
                                             for field, errors in exc.message_dict.items())) from exc

    def handle_create_site(self, *, community, slug, **options):
        site = actions.create_site(community_code=community, slug=slug, acting_staff=None)
        self.stdout.write(site.host)

    def handle_sites(self, **options):
        for host in CommunitySite.objects.order_by("slug").values_list("site__hostname", flat=True):
            self.stdout.write(host)

    def handle_add_editor(self, *, slug, username, name, **options):
        site = CommunitySite.objects.filter(slug=slug).first()
        if site is None:
            raise CommandError(f"no community site {slug!r} here")
        password = getpass.getpass("Password for the new editor: ")
        actions.add_editor(site=site, username=username, full_name=name, password=password)
        self.stdout.write(f"{username} edits {site.host}")
