"""Verifying lists of people (name + ID number + address) against the registry."""
