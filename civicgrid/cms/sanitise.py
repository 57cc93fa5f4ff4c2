"""Rich text that is safe to show to residents.

Wagtail's editor only ever stores its own small set of tags, but rich text also
arrives by other roads (an import, the shell, a crafted form post). Markup outside
that set is refused when a page is saved, with a message naming it, and what is
shown on a page is cleaned again by ammonia (nh3) on the way out.
"""

from __future__ import annotations

import nh3
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from lxml import html as lxml_html

# What Draftail writes with the features in WAGTAILADMIN_RICH_TEXT_EDITORS (database format).
STORED_TAGS = {"p", "h2", "h3", "h4", "b", "i", "strong", "em", "ol", "ul", "li", "a", "br", "embed", "hr"}
STORED_ATTRIBUTES = {"a": {"href", "linktype", "id"}, "embed": {"embedtype", "id", "format", "alt"}}
BLOCK_KEY = "data-block-key"  # Draftail's key on each block element
SAFE_SCHEMES = ("http:", "https:", "mailto:", "tel:")

# What the rendered HTML may hold (after Wagtail expanded links and image embeds).
SHOWN_TAGS = (STORED_TAGS - {"embed"}) | {"img"}
SHOWN_ATTRIBUTES = {"a": {"href"}, "img": {"src", "alt", "width", "height", "class"}}


def refuse_unsafe_markup(value: str) -> None:
    """ValidationError when ``value`` holds a tag, attribute or link Wagtail's editor never writes."""
    if not value or "<" not in value:
        return
    fragments = lxml_html.fragments_fromstring(value)
    problems: list[str] = []
    for fragment in fragments:
        if isinstance(fragment, str):
            continue
        for element in fragment.iter():
            tag = element.tag if isinstance(element.tag, str) else "!"
            if tag not in STORED_TAGS:
                problems.append(f"<{tag}>")
                continue
            for name, attribute in element.attrib.items():
                if name not in STORED_ATTRIBUTES.get(tag, set()) and name != BLOCK_KEY:
                    problems.append(f"{tag}[{name}]")
                elif name == "href" and ":" in attribute.split("/")[0] and not attribute.strip().lower().startswith(SAFE_SCHEMES):
                    problems.append(f"href={attribute[:30]}")
    if problems:
        raise ValidationError(
            _("The text contains markup that is not allowed: %(items)s.") % {"items": ", ".join(sorted(set(problems)))},
            code="unsafe_markup",
        )


def clean_shown_html(value: str) -> str:
    return nh3.clean(value, tags=SHOWN_TAGS, attributes=SHOWN_ATTRIBUTES,
                     url_schemes={"http", "https", "mailto", "tel"}, link_rel="noopener noreferrer")
