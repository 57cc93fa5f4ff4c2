"""civicgrid registry anonymise --tenant <schema> --person ID --reason … [--as <username>]

Erases one person's data on request (``anonymisation.anonymise_person``). Without ``--as``
it runs as the system, audited as "system"; with ``--as``, with that staff member's role
and scope, exactly as the console's button."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from django.http import Http404
from django_tenants.utils import tenant_context

from civicgrid.tenants.commands import tenant_argument

from .anonymisation import anonymise_person
from .models import Person
from .verification.cli import _staff


def configure(parser) -> None:
    parser.add_argument("--tenant", required=True, help="the tenant's schema name or division code")
    parser.add_argument("--person", required=True, type=int, help="the person's id in the registry")
    parser.add_argument("--reason", required=True, help="why (the request's reference); recorded in the audit trail")
    parser.add_argument("--as", dest="as_user", metavar="USERNAME", help="act as this staff member")


def run(command, *, tenant, person, reason, as_user=None, **_options) -> None:
    with tenant_context(tenant_argument(tenant)):
        staff = _staff(as_user) if as_user else None
        found = Person.objects.filter(pk=person).first()
        if found is None:
            raise CommandError(f"no person {person} in this tenant")
        try:
            done = anonymise_person(staff=staff, person=found, reason=reason)
        except Http404 as exc:
            raise CommandError(f"person {person} is not in {as_user}'s reach") from exc
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        command.stdout.write(f"person {done.pk} anonymised ({done.name})")
