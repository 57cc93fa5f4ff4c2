"""civicgrid registry import … | verify … | anonymise …

Each subcommand lives with its feature: ``imports.cli`` and ``verification.cli``
each provide ``configure(parser)`` and ``run(command, **options)``.
"""

from importlib import import_module

from django.core.management.base import BaseCommand

SUBCOMMANDS = {
    "import": ("civicgrid.platform.registry.imports.cli", "Import a department's file into the registry."),
    "verify": ("civicgrid.platform.registry.verification.cli", "Verify a list of people against the registry."),
    "anonymise": ("civicgrid.platform.registry.anonymisation_cli", "Erase one person's data on request (PIPL)."),
}


class Command(BaseCommand):
    help = "Registry imports, verification and erasure on request."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        for name, (module, help_text) in SUBCOMMANDS.items():
            import_module(module).configure(sub.add_parser(name, help=help_text))

    def handle(self, *args, subcommand, **options):
        import_module(SUBCOMMANDS[subcommand][0]).run(self, **options)
