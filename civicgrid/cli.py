"""The ``civicgrid`` console command: Django's management commands, with a few
names of our own (``civicgrid migrate`` migrates public, the template and every tenant)."""

import os
import sys

ALIASES = {"migrate": "migrate_all"}


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicgrid.config.settings.dev")
    argv = list(sys.argv if argv is None else argv)
    if len(argv) > 1 and argv[1] in ALIASES:
        argv[1] = ALIASES[argv[1]]
    from django.core.management import execute_from_command_line

    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
