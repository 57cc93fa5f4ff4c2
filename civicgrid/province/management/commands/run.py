"""civicgrid run: the whole platform on one machine.

Starts what is embedded and needed (through the settings), migrates, seeds the
demo on first run, then serves HTTP and websockets (daphne) with a Celery
worker and beat as child processes. Ctrl-C stops every child; a second run
reuses the data under .civicgrid/.
"""

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from tqdm import tqdm

from civicgrid.province.demo import DEMO_PASSWORD, demo_is_seeded, seed_demo
from civicgrid.province.tasks import refresh_all_tenant_health


class Command(BaseCommand):
    help = "Run the platform with demo data: web and websockets, a Celery worker and beat."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--no-worker", action="store_true", help="do not start the Celery worker and beat")

    def handle(self, *args, port, host, no_worker, **options):
        self.stdout.write(f"database: {settings.DATABASES['default'].get('HOST') or 'embedded'}"
                          f"  data: {settings.DATA_DIR}")
        call_command("migrate_all", verbosity=0)
        if not demo_is_seeded():
            bar = tqdm(total=1, desc="seeding the demo province", unit="tenant")

            def show(done, total, step):
                bar.total, bar.n = total, done
                bar.set_postfix_str(step)
                bar.refresh()

            accounts = seed_demo(progress=show)
            bar.close()
        else:
            from civicgrid.province.demo import seed_demo as reseed

            accounts = reseed()  # idempotent: lists what exists, creates what is missing
        self._print_accounts(accounts, port)
        refresh_all_tenant_health.delay()  # the worker picks it up as soon as it starts

        python = sys.executable
        children = [
            ("web", [python, "-m", "daphne", "-b", host, "-p", str(port), "civicgrid.config.asgi:application"]),
        ]
        if not no_worker:
            children += [
                ("worker", [python, "-m", "celery", "-A", "civicgrid.config.celery", "worker",
                            "--loglevel=WARNING", "--concurrency=2", "--hostname", f"civicgrid-{os.getpid()}@%h"]),
                ("beat", [python, "-m", "celery", "-A", "civicgrid.config.celery", "beat", "--loglevel=WARNING",
                          "--schedule", str(settings.DATA_DIR / "celerybeat-schedule")]),
            ]
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": os.environ["DJANGO_SETTINGS_MODULE"]}
        processes = {}
        stopping = False

        def stop(*_):
            nonlocal stopping
            stopping = True

        # Installed before the first child starts: from here a stop only raises the
        # flag, so no exception can land between a child's start and its entry in
        # `processes`, and the finally below stops every child whenever the stop
        # comes. (Until here, `civicgrid` turns SIGTERM into SystemExit and there
        # are no children; the embedded servers' exit hooks do the rest.)
        signal.signal(signal.SIGTERM, stop)
        # Set explicitly: a shell starts background jobs with SIGINT ignored.
        signal.signal(signal.SIGINT, stop)
        try:
            for name, command in children:
                if not stopping:
                    processes[name] = subprocess.Popen(command, env=env)
            self.stdout.write(self.style.SUCCESS(
                f"CivicGrid is running: http://{settings.CIVICGRID_BASE_DOMAIN}:{port}/  (Ctrl-C stops everything)"))
            while not stopping:
                for name, process in processes.items():
                    if process.poll() is not None and not stopping:
                        self.stderr.write(f"{name} exited with {process.returncode}; stopping")
                        stopping = True
                time.sleep(0.5)
        finally:
            self.stdout.write("stopping …")
            for process in processes.values():
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 15
            for process in processes.values():
                try:
                    process.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    process.kill()

    def _print_accounts(self, accounts, port):
        self.stdout.write("")
        self.stdout.write(f"Demo accounts (password for all: {DEMO_PASSWORD})")
        for account in accounts:
            mark = " *" if account.second_factor else ""
            self.stdout.write(f"  http://{account.site}:{port}/  {account.username:<24} {account.role}{mark}")
        self.stdout.write("")
        self.stdout.write("* signs in with a second factor (等保 level 3). At the first sign-in the page shows a QR")
        self.stdout.write("  code and a key: scan it with any authenticator app (Microsoft/Google Authenticator,")
        self.stdout.write("  FreeOTP …), or, with no phone at hand, print the current code for that key with")
        self.stdout.write("  `.venv/bin/civicgrid second_factor code <key>` and type it in. A lost phone:")
        self.stdout.write("  `civicgrid second_factor reset <user>`.")
        self.stdout.write("")
