"""The interface every search backend implements.

A backend indexes ``CaseDoc``s of one tenant (the schema is always explicit: a
shared Elasticsearch index holds every tenant) and answers ``SearchRequest``s
with hits, highlights, facet counts and suggestions. Any failure to reach or
use the engine is raised as ``SearchUnavailable``, so callers can fall back to
the database and the indexer can leave the queue as it is.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

from ..documents import CaseDoc
from ..query import SearchRequest, SearchResult


@dataclass
class Health:
    ok: bool
    backend: str
    detail: str = ""


class SearchBackend(ABC):
    name: str

    def index(self, schema: str, doc: CaseDoc) -> None:
        """Add or replace one case's document."""
        self.bulk(schema, [doc])

    @abstractmethod
    def bulk(self, schema: str, docs: Sequence[CaseDoc]) -> int:
        """Add or replace many documents at once; returns how many were written."""

    @abstractmethod
    def delete(self, schema: str, case_ids: Sequence[int]) -> None:
        """Remove these cases' documents (missing ones are no error)."""

    @abstractmethod
    def search(self, schema: str, request: SearchRequest) -> SearchResult:
        """Hits ranked by relevance, with highlights, total, and (if asked) facet counts."""

    @abstractmethod
    def count(self, schema: str) -> int:
        """How many documents this tenant has in the index."""

    @abstractmethod
    def health(self) -> Health:
        """Whether the engine answers now."""

    def prepare(self, schema: str) -> None:  # noqa: B027 -- a hook most backends do not need
        """Make whatever the tenant needs before its first document (an alias, a mapping)."""

    def finish_reindex(self, schema: str) -> None:  # noqa: B027
        """Called once a whole tenant has been written by ``reindex``: a backend that
        skipped making big batches visible one by one makes them visible now."""

    def drop_tenant(self, schema: str) -> None:  # noqa: B027
        """Forget every document of a tenant that is being removed."""
