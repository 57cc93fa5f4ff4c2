"""GeoJSON checks for grid boundaries (WGS 84 longitude/latitude)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from shapely.geometry import shape
from shapely.validation import explain_validity


def validate_boundary(geometry: dict):
    """A valid Polygon or MultiPolygon inside China's bounding box; returns the shapely shape."""
    if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        raise ValidationError(_("A grid boundary must be a GeoJSON Polygon or MultiPolygon."))
    try:
        polygon = shape(geometry)
    except Exception as exc:
        raise ValidationError(_("The boundary is not readable GeoJSON: %(error)s") % {"error": exc}) from exc
    if not polygon.is_valid:
        raise ValidationError(_("The boundary is not a valid polygon: %(reason)s") % {"reason": explain_validity(polygon)})
    min_x, min_y, max_x, max_y = polygon.bounds
    if not (73 <= min_x <= max_x <= 136 and 3 <= min_y <= max_y <= 54):
        raise ValidationError(_("The boundary lies outside China; coordinates are longitude, latitude (WGS 84)."))
    return polygon
