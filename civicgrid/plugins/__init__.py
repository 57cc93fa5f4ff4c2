"""Plugins: hook specifications, the plugin manager, the catalog, per-tenant
activation, metering and billing. Built by the plugins issue; onboarding already
runs the steps listed in ``CIVICGRID_ONBOARDING_STEPS``."""
