"""The search backend in use: Elasticsearch when ``ELASTICSEARCH_URL`` is set,
else PostgreSQL full-text in each tenant's schema. One instance per process."""

from __future__ import annotations

from functools import cache

from django.conf import settings

from .base import Health, SearchBackend

__all__ = ["Health", "SearchBackend", "backend"]


@cache
def backend() -> SearchBackend:
    if settings.ELASTICSEARCH_URL:
        from .elasticsearch import ElasticsearchBackend

        return ElasticsearchBackend(settings.ELASTICSEARCH_URL, index=settings.ELASTICSEARCH_INDEX)
    from .postgres import PostgresBackend

    return PostgresBackend()
