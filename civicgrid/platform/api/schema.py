"""What the OpenAPI schema describes."""


def platform_endpoints_only(endpoints):
    """Leave out Wagtail's admin API (``/cms-admin/api/…``): it serves the editor's choosers,
    is not a public interface, and its tables are not in the public schema."""
    return [endpoint for endpoint in endpoints if not endpoint[0].startswith("/cms-admin/")]
