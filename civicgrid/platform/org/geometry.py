"""GeoJSON checks for grid boundaries (WGS 84 longitude/latitude), and drawing them as SVG."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

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


# --- drawing ------------------------------------------------------------------


@dataclass
class DrawnShape:
    key: str
    d: str  # SVG path data; holes are drawn with fill-rule="evenodd"
    label_x: float
    label_y: float
    area: float


@dataclass
class Drawing:
    width: float
    height: float
    shapes: list[DrawnShape] = field(default_factory=list)

    @property
    def view_box(self) -> str:
        return f"0 0 {self.width:.0f} {self.height:.0f}"


def draw(boundaries: list[tuple[str, dict]], *, width: float = 640, max_height: float = 560,
         margin: float = 12) -> Drawing | None:
    """Project GeoJSON polygons into SVG coordinates (no tiles, no script).

    A local equirectangular projection: longitude shrinks by cos(latitude) at the
    drawing's middle, which keeps a county's grids true to shape. None when there
    is nothing to draw."""
    polygons = []
    for key, geometry in boundaries:
        try:
            polygon = shape(geometry)
        except Exception:  # a broken boundary is left out of the picture, not fatal to the page
            continue
        if not polygon.is_empty:
            polygons.append((key, polygon))
    if not polygons:
        return None
    min_x = min(p.bounds[0] for _, p in polygons)
    min_y = min(p.bounds[1] for _, p in polygons)
    max_x = max(p.bounds[2] for _, p in polygons)
    max_y = max(p.bounds[3] for _, p in polygons)
    x_stretch = math.cos(math.radians((min_y + max_y) / 2))
    span_x = max((max_x - min_x) * x_stretch, 1e-9)
    span_y = max(max_y - min_y, 1e-9)
    scale = min((width - 2 * margin) / span_x, (max_height - 2 * margin) / span_y)
    height = span_y * scale + 2 * margin
    drawn_width = span_x * scale + 2 * margin

    def project(lng: float, lat: float) -> tuple[float, float]:
        return margin + (lng - min_x) * x_stretch * scale, margin + (max_y - lat) * scale

    drawing = Drawing(width=drawn_width, height=height)
    for key, polygon in polygons:
        parts = []
        for piece in getattr(polygon, "geoms", [polygon]):
            for ring in [piece.exterior, *piece.interiors]:
                points = [project(x, y) for x, y, *_ in ring.coords]
                parts.append("M" + " L".join(f"{x:.1f} {y:.1f}" for x, y in points[:-1]) + " Z")
        label = polygon.representative_point()
        label_x, label_y = project(label.x, label.y)
        drawing.shapes.append(DrawnShape(key=key, d=" ".join(parts), label_x=round(label_x, 1),
                                         label_y=round(label_y, 1), area=polygon.area))
    return drawing
