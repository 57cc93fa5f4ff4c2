"""The modules CivicGrid ships: fire safety, food safety and school surroundings.

Each is a plugin exactly as a vendor would write one: its own Django app, its
``PluginConfig`` named by an entry point in ``civicgrid.plugins`` (pyproject.toml),
its hooks in ``hooks.py``, its billable unit metered through ``meter()``. Nothing in
the core imports them; a county switches each on or off like any other plugin.
"""
