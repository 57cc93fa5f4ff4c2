"""Search backends: PostgreSQL full-text by default, Elasticsearch when
``ELASTICSEARCH_URL`` is set (the search issue)."""
