"""Checks on onboarding input, shared by the form, the API and the command line."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .models import Domain, Tenant

DIVISION_CODE = re.compile(r"^[1-8]\d{5}$")
# RFC 1123 host names; one label at least before the base domain.
DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$")
SCHEMA = re.compile(r"^[a-z][a-z0-9_]{1,40}$")
RESERVED_SCHEMAS = {"public", "tenant_template", "information_schema", "pg_catalog", "pg_toast"}


def schema_for_domain(domain: str) -> str:
    return domain.split(".")[0].replace("-", "_")


def validate_onboarding(
    *, name: str, division_code: str, level: str, domain: str, parent_code: str | None, schema_name: str
) -> dict[str, list[str]]:
    """Every problem with the request, by field; empty when it can go ahead.

    Division codes follow GB/T 2260: a city ends in ``00`` (but not ``0000``,
    which is a province), and a county shares its city's first four digits.
    """
    errors: dict[str, list[str]] = {}

    def fail(field, message):
        errors.setdefault(field, []).append(message)

    if not name.strip():
        fail("name", _("Enter the name of the city or county."))
    if level not in (Tenant.Level.CITY, Tenant.Level.COUNTY):
        fail("level", _("Level must be city or county."))
    if not DIVISION_CODE.match(division_code):
        fail("division_code", _("A division code is six digits (GB/T 2260), for example 330102."))
    else:
        if division_code.endswith("0000"):
            fail("division_code", _("%(code)s is a province code, not a city or county.") % {"code": division_code})
        elif level == Tenant.Level.CITY and not division_code.endswith("00"):
            fail("division_code", _("A city's division code ends in 00."))
        elif level == Tenant.Level.COUNTY and division_code.endswith("00"):
            fail("division_code", _("A county's division code does not end in 00."))
        if Tenant.objects.filter(division_code=division_code).exists():
            fail("division_code", _("Division code %(code)s is already onboarded.") % {"code": division_code})
    if not DOMAIN.match(domain):
        fail("domain", _("Enter a valid host name, for example shangcheng.example.gov.cn."))
    elif Domain.objects.filter(domain=domain).exists():
        fail("domain", _("The domain %(domain)s is already taken.") % {"domain": domain})
    if "domain" in errors:
        pass  # one message about the domain is enough
    elif not SCHEMA.match(schema_name) or schema_name in RESERVED_SCHEMAS:
        fail("domain", _("The first part of the domain must start with a letter and use only letters, digits and hyphens."))
    elif Tenant.objects.filter(schema_name=schema_name).exists():
        fail("domain", _("A tenant named %(schema)s already exists; choose another domain.") % {"schema": schema_name})

    if level == Tenant.Level.COUNTY:
        if not parent_code:
            fail("parent", _("A county needs its parent city."))
        else:
            parent = Tenant.objects.filter(division_code=parent_code).first()
            if parent is None:
                fail("parent", _("No tenant has the division code %(code)s.") % {"code": parent_code})
            elif parent.level != Tenant.Level.CITY:
                fail("parent", _("The parent must be a city; %(name)s is not.") % {"name": parent.name})
            elif DIVISION_CODE.match(division_code) and division_code[:4] != parent_code[:4]:
                fail("parent", _("County %(code)s does not belong to city %(parent)s.") % {"code": division_code, "parent": parent_code})
    elif parent_code:
        fail("parent", _("A city has no parent tenant."))
    return errors


def raise_if_invalid(errors: dict[str, list[str]]) -> None:
    if errors:
        raise ValidationError({field: [ValidationError(m) for m in messages] for field, messages in errors.items()})
