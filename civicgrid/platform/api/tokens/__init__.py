"""API tokens per integration: a county admin issues one per system that calls the API
(label, scopes, expiry, the staff account it acts as); only the token's SHA-256 is kept.
``Authorization: Bearer <token>``; see ``authentication`` and ``scopes``."""
