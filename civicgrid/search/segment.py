"""Chinese word segmentation for the case search: jieba's dictionary and algorithm,
run by jieba-rs (the ``rjieba`` binding), which gives the same words as the Python
jieba about forty times faster (a reindex segments a million cases).

The dictionary takes about half a second to load, so it is loaded once per process
(on first use) together with the governance words the project ships in
``dict/governance.txt`` (网格员, 占道经营, 飞线充电 …), which jieba would
otherwise split.

Documents are cut in jieba's search mode (every word plus the shorter words
inside long ones: 中华人民共和国 also gives 人民, 共和国), queries in its precise
mode. Every word the precise mode finds in a text is among the words the search
mode finds in it, so a query word is found wherever the same text stands.
"""

from __future__ import annotations

import threading
import unicodedata
from pathlib import Path

DOMAIN_DICTIONARY = Path(__file__).with_name("dict") / "governance.txt"
# Words that carry no meaning of their own in a report.
STOPWORDS = frozenset("的 了 和 与 及 或 在 是 有 被 把 对 将 也 都 就 而 并 等 啊 吧 呢 吗 我 你 他 她 它 们 这 那 个".split())

_lock = threading.Lock()
_tokenizer = None


def tokenizer():
    """The process's segmenter, loaded on first use, with the domain dictionary."""
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                import rjieba

                loaded = rjieba.Jieba()
                for line in DOMAIN_DICTIONARY.read_text(encoding="utf-8").splitlines():
                    word, *rest = line.split()
                    if word:
                        frequency = int(rest[0]) if rest and rest[0].isdigit() else None
                        loaded.add_word(word, frequency, rest[1] if len(rest) > 1 else None)
                _tokenizer = loaded
    return _tokenizer


def normalise(text: str) -> str:
    """Full-width letters and digits to half-width, lower case: ＡＢＣ１２ and abc12 are one word."""
    text = text or ""
    if not unicodedata.is_normalized("NFKC", text):  # most reports are; checking is far cheaper
        text = unicodedata.normalize("NFKC", text)
    return text.lower()


# jieba keeps runs of these with the letters and digits around them; a token of nothing else
# ("--", "...") carries no meaning, nor do whitespace tokens.
_NOT_A_WORD = "+#&._%- \t\r\n\u3000"


def _keep(word: str) -> bool:
    """A token worth indexing: not a stopword, and a letter or digit in it. jieba gives
    punctuation one character at a time, so only one-character tokens need a closer look
    (this runs for every token of a million cases in a reindex)."""
    if word in STOPWORDS:
        return False
    return word.isalnum() if len(word) == 1 else bool(word.strip(_NOT_A_WORD))


def document_words(text: str) -> list[str]:
    """The words of a document, in order, search mode (repeats kept: they count in ranking)."""
    text = normalise(text)
    if not text:
        return []
    return [word for word in tokenizer().cut_for_search(text) if _keep(word)]


def query_words(text: str) -> list[str]:
    """The distinct words of a query, precise mode, in the order typed."""
    seen: dict[str, None] = {}
    for word in tokenizer().cut(normalise(text)):
        if _keep(word):
            seen.setdefault(word, None)
    return list(seen)


def query_terms(text: str) -> list[tuple[str, tuple[str, ...]]]:
    """Each query word with the pieces it splits into without context.

    A segmenter cuts by context, so 东坡路 typed alone may be one word while the
    document's 东坡路12号 was cut 东坡 / 路. A document matches a term if it has
    the word, or all of its pieces."""
    terms = []
    for word in query_words(text):
        pieces = tuple(piece for piece in tokenizer().cut(word, False) if _keep(piece))
        terms.append((word, pieces if len(pieces) > 1 else ()))
    return terms
