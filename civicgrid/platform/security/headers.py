"""The security headers every response carries, on every site (province, county console,
community sites, the API, static files): Content-Security-Policy (django-csp) and
Permissions-Policy. Referrer-Policy, X-Content-Type-Options, Cross-Origin-Opener-Policy and
HSTS come from Django's SecurityMiddleware (settings ``SECURE_*``).

The policy itself is ``CONTENT_SECURITY_POLICY`` in the settings: only the site's own
sources, no inline script anywhere. One prefix is relaxed, Wagtail's admin
(``/cms-admin/``): its widgets (date pickers, inline panels, workflow) still write inline
``<script>`` blocks, and its preview shows the page in a frame of the admin itself. Only the
tenant's CMS members reach it (``cms.middleware``), and it never renders residents' input
as markup, so the wider policy there is confined to editors' own pages.
"""

from __future__ import annotations

from csp.constants import SELF, UNSAFE_INLINE
from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings

WAGTAIL_ADMIN_PREFIX = "/cms-admin/"
WAGTAIL_ADMIN_RELAXED = {
    "script-src": [SELF, UNSAFE_INLINE],
    "frame-ancestors": [SELF],  # the editor's live preview frames the admin's own preview view
}


class SecurityHeadersMiddleware(CSPMiddleware):
    """django-csp's middleware, plus Permissions-Policy, plus the Wagtail admin's relaxation."""

    def process_response(self, request, response):
        response = super().process_response(request, response)
        policy = getattr(settings, "PERMISSIONS_POLICY", None)
        if policy and "Permissions-Policy" not in response:
            response["Permissions-Policy"] = ", ".join(
                f"{feature}=({' '.join(allow)})" for feature, allow in policy.items())
        # What SecurityMiddleware adds, for the answers given before it runs (an unknown
        # host's 404 from the tenant middleware, a NUL refusal).
        if settings.SECURE_CONTENT_TYPE_NOSNIFF:
            response.headers.setdefault("X-Content-Type-Options", "nosniff")
        if settings.SECURE_REFERRER_POLICY:
            response.headers.setdefault("Referrer-Policy", settings.SECURE_REFERRER_POLICY)
        if settings.SECURE_CROSS_ORIGIN_OPENER_POLICY:
            response.headers.setdefault("Cross-Origin-Opener-Policy", settings.SECURE_CROSS_ORIGIN_OPENER_POLICY)
        return response

    def get_policy_parts(self, request, response, report_only=False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if not report_only and request.path_info.startswith(WAGTAIL_ADMIN_PREFIX):
            parts.replace = {**WAGTAIL_ADMIN_RELAXED, **(parts.replace or {})}
        return parts
