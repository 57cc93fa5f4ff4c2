"""civicgrid tenants create | list | suspend | resume | export | backup | restore | offboard | purge-due

The actions are in ``civicgrid.province.onboarding`` (create, suspend, resume),
``civicgrid.province.lifecycle`` (export, backup, restore) and ``civicgrid.province.offboarding``."""

import time

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext
from tqdm import tqdm

from civicgrid.province import onboarding
from civicgrid.province.lifecycle_commands import LifecycleCommands, add_lifecycle_arguments
from civicgrid.tenants.commands import tenant_argument
from civicgrid.tenants.models import OnboardingJob
from civicgrid.tenants.selectors import tenants_for_province


def worker_is_running(timeout: float = 1.5) -> bool:
    from civicgrid.config.celery import app

    try:
        return bool(app.control.ping(timeout=timeout))
    except Exception:  # broker unreachable: no worker either
        return False


class Command(LifecycleCommands, BaseCommand):
    help = "Onboard, list, suspend, resume, export, back up, restore and offboard cities and counties."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Onboard a city or county (clones the template schema).")
        create.add_argument("--name", required=True)
        create.add_argument("--division-code", required=True)
        create.add_argument("--level", required=True, choices=["city", "county"])
        create.add_argument("--parent", help="the parent city's division code (counties)")
        create.add_argument("--domain", required=True)
        create.add_argument("--admin-username")
        create.add_argument("--admin-password", help="generated and printed once when omitted")
        create.add_argument("--here", action="store_true", help="run in this process even when a worker is up")
        sub.add_parser("list", help="List tenants.")
        for name in ("suspend", "resume"):
            p = sub.add_parser(name, help=f"{name.capitalize()} a tenant.")
            p.add_argument("tenant", help="division code or schema name")
            if name == "suspend":
                p.add_argument("--reason", default="")
        add_lifecycle_arguments(sub)

    def handle(self, *args, action, **options):
        getattr(self, f"handle_{action.replace('-', '_')}")(**options)

    # --- create ---------------------------------------------------------------

    def handle_create(self, **o):
        params = {
            "name": o["name"], "division_code": o["division_code"], "level": o["level"],
            "parent_code": o["parent"] or "", "domain": o["domain"],
            "admin_username": o["admin_username"] or "",
        }
        bar = tqdm(total=1, desc=f"onboarding {o['name']}", unit="step")

        def show(done, total, step):
            bar.total = total
            bar.n = done
            bar.set_postfix_str(gettext(step))
            bar.refresh()

        generated = None
        try:
            if not o["here"] and worker_is_running():
                password = o["admin_password"]
                if not password:
                    import secrets

                    generated = password = secrets.token_urlsafe(12)
                job = onboarding.request_onboarding(params={**params, "admin_password": password}, acting_user=None)
                job = self._follow(job, show)
                if job.status == OnboardingJob.Status.FAILED:
                    raise CommandError(job.error)
                tenant = job.tenant
                username = params["admin_username"] or f"{tenant.schema_name}_admin"
            else:
                result = onboarding.onboard_tenant(
                    **params, admin_password=o["admin_password"], acting_user=None, progress=show
                )
                tenant, username, generated = result.tenant, result.admin_username, result.admin_password
                if not result.created:
                    self.stdout.write(self.style.WARNING(f"{tenant} was already onboarded; nothing changed."))
        except onboarding.OnboardingRefused as refused:
            raise CommandError(self._format_errors(refused.errors)) from refused
        except onboarding.OnboardingFailed as failed:
            raise CommandError(str(failed)) from failed
        finally:
            bar.close()
        self.stdout.write(self.style.SUCCESS(f"{tenant.name} ({tenant.division_code}) is active at {tenant.primary_domain}"))
        self.stdout.write(f"county admin: {username}" + (f"  password: {generated}" if generated else ""))

    def _follow(self, job, show):
        while True:
            from civicgrid.tenants import progress

            live = progress.read(job.pk)
            if live:
                show(live["done"], live["total"], live["step"])
            job.refresh_from_db()
            if job.is_finished:
                return job
            time.sleep(0.3)

    @staticmethod
    def _format_errors(errors):
        return "\n".join(f"{field if field != '__all__' else 'error'}: {message}"
                         for field, messages in errors.items() for message in messages)

    # --- list, suspend, resume --------------------------------------------------

    def handle_list(self, **o):
        rows = [("code", "name", "level", "parent", "schema", "domain", "status", "dead letters")]
        for t in tenants_for_province():
            health = getattr(t, "health", None)  # as of the last refresh (every 5 minutes)
            rows.append((t.division_code, t.name, t.level, t.parent.division_code if t.parent else "",
                         t.schema_name, t.primary_domain, t.status, health.outbox_dead_letters if health else "?"))
        widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
        for row in rows:
            self.stdout.write("  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)))

    def handle_suspend(self, **o):
        tenant = onboarding.suspend_tenant(tenant=tenant_argument(o["tenant"]), acting_user=None, reason=o["reason"])
        self.stdout.write(f"{tenant} is suspended")

    def handle_resume(self, **o):
        tenant = onboarding.resume_tenant(tenant=tenant_argument(o["tenant"]), acting_user=None)
        self.stdout.write(f"{tenant} is active")
