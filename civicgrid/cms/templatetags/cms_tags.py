from django import template
from django.utils.safestring import mark_safe
from wagtail.rich_text import RichText, expand_db_html

from civicgrid.cms.sanitise import clean_shown_html

register = template.Library()


@register.filter
def safe_richtext(value) -> str:
    """Rich text expanded (links, images) and cleaned again by ammonia before residents see it."""
    source = value.source if isinstance(value, RichText) else (value or "")
    return mark_safe(clean_shown_html(expand_db_html(source)))
