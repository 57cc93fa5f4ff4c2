"""The OpenAPI schema is whole: drf-spectacular builds it, for the tenants' hosts and
the province's, without a warning (two serializers with one name, or two sets of choices
under one enum name, silently give clients a wrong schema)."""

import pytest
from django.core.management import call_command


@pytest.mark.parametrize("urlconf", ["civicgrid.config.urls_tenant", "civicgrid.config.urls_public"])
def test_the_schema_builds_without_a_warning(urlconf, tmp_path, capsys):
    call_command("spectacular", "--fail-on-warn", "--urlconf", urlconf, "--file", str(tmp_path / "schema.yaml"))
    text = (tmp_path / "schema.yaml").read_text()
    assert "/api/v1/" in text
    if urlconf.endswith("tenant"):  # the modules' routes are in it, with their own names
        assert "/api/v1/p/fire_safety/inspections/" in text and "FoodInspectionOutput" in text
        assert "basicAuth" in text and "bearerAuth" in text
