"""Acme SMS: CivicGrid case notifications by text message through Acme's gateway."""
