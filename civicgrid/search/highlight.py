"""Highlighted snippets: the query's words marked in the original text.

The text is escaped first, piece by piece, so a title holding ``<script>`` comes
back as harmless text with only our ``<mark>`` tags in it. Matching is on the
normalised text (full-width and case folded), which keeps every character's
place, so marks land on the original characters.
"""

from __future__ import annotations

import re

from django.utils.html import escape

from .segment import normalise, query_terms

SNIPPET_CHARS = 80
MARK_OPEN, MARK_CLOSE = "<mark>", "</mark>"


def query_marks(text: str) -> list[str]:
    """The words to mark for a query: each query word and the pieces it may be split into."""
    return [w for word, pieces in query_terms(text) for w in (word, *pieces)]


def hit_highlight(title: str, meta: str, body: str, words: list[str]) -> dict[str, str]:
    """A hit's highlights, the same for every backend: the whole title marked, and a
    snippet of the body, else of the meta, where a word stands."""
    found = {"title": mark(title, words)}
    text = snippet(body, words) or snippet(meta, words)
    if text:
        found["text"] = text
    return found


def _pattern(words: list[str]) -> re.Pattern | None:
    words = sorted({w for w in words if w}, key=len, reverse=True)  # the longest word wins at a place
    if not words:
        return None
    return re.compile("|".join(re.escape(w) for w in words))


def _spans(text: str, pattern: re.Pattern) -> list[tuple[int, int]]:
    folded = normalise(text)
    if len(folded) != len(text):  # NFKC changed the length (rare ligatures): match the text itself
        folded = text.lower()
    return [(m.start(), m.end()) for m in pattern.finditer(folded)]


def mark(text: str, words: list[str]) -> str:
    """The whole of ``text``, escaped, with every occurrence of ``words`` marked."""
    pattern = _pattern(words)
    if pattern is None:
        return escape(text)
    return _marked(text, _spans(text, pattern), 0, len(text))


def snippet(text: str, words: list[str], width: int = SNIPPET_CHARS) -> str:
    """A window of about ``width`` characters around the first match, escaped and marked;
    empty if nothing matched."""
    pattern = _pattern(words)
    spans = _spans(text, pattern) if pattern else []
    if not spans:
        return ""
    first = spans[0][0]
    start = max(0, first - width // 3)
    end = min(len(text), start + width)
    start = max(0, min(start, end - width))
    body = _marked(text, [s for s in spans if s[0] >= start and s[1] <= end], start, end)
    return ("…" if start > 0 else "") + body + ("…" if end < len(text) else "")


def _marked(text: str, spans: list[tuple[int, int]], start: int, end: int) -> str:
    out, at = [], start
    for left, right in spans:
        if left < at:
            continue
        out.append(escape(text[at:left]))
        out.append(MARK_OPEN + escape(text[left:right]) + MARK_CLOSE)
        at = right
    out.append(escape(text[at:end]))
    return "".join(out)
