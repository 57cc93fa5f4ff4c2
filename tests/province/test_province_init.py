"""``civicgrid province init``: the province's own row and domain, written by the deployments'
migrate job (deploy/compose.yaml, deploy/k8s/migrate-job.yaml) so that the base domain answers,
the health checks included. Run again after every upgrade, it changes nothing."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from civicgrid.tenants.models import Domain, Tenant

HOST = "init-check.localhost"


def init(*args: str) -> str:
    out = io.StringIO()
    call_command("province", "init", *args, stdout=out)
    return out.getvalue()


def test_init_makes_the_domain_answer_and_changes_nothing_the_second_time(world):
    assert Client(HTTP_HOST=HOST).get("/api/v1/health/").status_code == 404
    args = ("--name", "浙江省", "--division-code", "330000", "--domain", HOST)

    assert HOST in init(*args)
    assert Client(HTTP_HOST=HOST).get("/api/v1/health/").json() == {"status": "ok", "tenant": "public"}

    tenants, domains = Tenant.objects.count(), Domain.objects.count()
    init(*args)
    assert (Tenant.objects.count(), Domain.objects.count()) == (tenants, domains)
    assert Domain.objects.get(domain=HOST).tenant.schema_name == "public"


def test_init_reads_the_environment_and_refuses_without_a_name(world, monkeypatch):
    with pytest.raises(CommandError, match="--name and --division-code"):
        init("--domain", HOST)
    assert not Domain.objects.filter(domain=HOST).exists()

    monkeypatch.setenv("CIVICGRID_PROVINCE_NAME", "浙江省")
    monkeypatch.setenv("CIVICGRID_PROVINCE_CODE", "330000")
    init("--domain", HOST)
    assert Domain.objects.get(domain=HOST).tenant.schema_name == "public"
