"""The one error an Open311 endpoint answers with: an HTTP status and the spec's
list of ``{code, description}`` items (several problems can be reported at once)."""

from __future__ import annotations


class Open311Error(Exception):
    def __init__(self, status: int, *descriptions: str, headers: dict | None = None):
        super().__init__(*descriptions)
        self.status = status
        self.descriptions = [str(d) for d in descriptions]
        self.headers = headers or {}  # e.g. Retry-After with a 429

    def items(self) -> list[dict]:
        return [{"code": self.status, "description": d} for d in self.descriptions]
