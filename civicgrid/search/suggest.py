""""Did you mean": category and place names close to what was typed.

Chinese typing errors are wrong or missing characters (路灯怀了 for 路灯坏了,
东坡路 for 东坡路口), so names are compared by their character pairs (Dice
coefficient), with a bonus when one holds the other. The names of a tenant
(categories, org units, registry places: a few thousand) are read once every
few minutes per process.
"""

from __future__ import annotations

import time

from django.db import connection

from .segment import normalise

MIN_SCORE = 0.45
NAMES_TTL = 300.0
MAX_PLACES = 20_000
_names: dict[str, tuple[float, list[tuple[str, frozenset[str]]]]] = {}


def _pairs(text: str) -> frozenset[str]:
    text = "".join(normalise(text).split())
    if len(text) < 2:
        return frozenset({text}) if text else frozenset()
    return frozenset(text[i:i + 2] for i in range(len(text) - 1))


def _tenant_names() -> list[tuple[str, frozenset[str]]]:
    from civicgrid.platform.cases.models import Category
    from civicgrid.platform.org.models import OrgUnit
    from civicgrid.platform.registry.models import Place

    schema = connection.schema_name
    cached = _names.get(schema)
    if cached and time.monotonic() - cached[0] < NAMES_TTL:
        return cached[1]
    names = set(Category.objects.filter(is_active=True).values_list("name", flat=True))
    names.update(OrgUnit.objects.values_list("name", flat=True))
    names.update(Place.objects.values_list("name", flat=True)[:MAX_PLACES])
    entries = [(name, _pairs(name)) for name in sorted(n for n in names if n)]
    _names[schema] = (time.monotonic(), entries)
    return entries


def score(query: str, name: str, query_pairs: frozenset[str], name_pairs: frozenset[str]) -> float:
    if not query_pairs or not name_pairs:
        return 0.0
    dice = 2 * len(query_pairs & name_pairs) / (len(query_pairs) + len(name_pairs))
    folded_query, folded_name = normalise(query), normalise(name)
    if folded_name in folded_query or folded_query in folded_name:
        dice = max(dice, 0.6)
    return dice


def suggestions(text: str, *, limit: int = 3) -> list[str]:
    """Up to ``limit`` names like ``text`` (never ``text`` itself), best first."""
    text = text.strip()
    query_pairs = _pairs(text)
    if not query_pairs:
        return []
    ranked = sorted(((score(text, name, query_pairs, pairs), name) for name, pairs in _tenant_names()
                     if name != text and pairs & query_pairs), key=lambda pair: (-pair[0], pair[1]))
    return [name for value, name in ranked if value >= MIN_SCORE][:limit]
