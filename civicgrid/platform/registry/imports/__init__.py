"""Importing department files into the registry: staging, validation, reconciliation."""
