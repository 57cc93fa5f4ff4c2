"""Chinese words for Wagtail's database search backend.

PostgreSQL's ``simple`` configuration splits text at spaces and punctuation only, so a
service guide's "申请最低生活保障需要的材料" would be one word. Pages index a field of
jieba's words joined by spaces (the case search's tokenizer and dictionary), and queries
are cut the same way before they reach Wagtail.
"""

from __future__ import annotations

from civicgrid.search.segment import document_words, query_words


def index_text(*parts: str) -> str:
    return " ".join(document_words(" ".join(part for part in parts if part)))


def query_text(query: str) -> str:
    return " ".join(query_words(query))
