"""Draws 平安通's app icons (the PNGs under static/console/worker/) with Pillow.

Run again after a change: ``python -m civicgrid.platform.console.worker_icons``. The mark is
a shield with a grid inside, no lettering (no font needed, the same in every language), kept
in the middle 60 % so a launcher that masks the icon to a circle cuts nothing off."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parent / "static" / "console" / "worker"
BRAND = (29, 79, 145)
ACCENT = (217, 48, 37)
SIZES = (192, 512)


def draw_icon(size: int) -> Image.Image:
    scale = 4  # drawn large, scaled down: smooth edges without anti-aliasing support in ImageDraw
    big = size * scale
    image = Image.new("RGB", (big, big), BRAND)
    draw = ImageDraw.Draw(image)
    unit = big / 100
    # The shield: a pentagon-like outline with a pointed bottom, within 20..80 of 100.
    shield = [(50, 19), (78, 28), (78, 52), (50, 82), (22, 52), (22, 28)]
    draw.polygon([(x * unit, y * unit) for x, y in shield], fill=(255, 255, 255))
    inner = [(50, 25), (72, 32), (72, 50), (50, 74), (28, 50), (28, 32)]
    draw.polygon([(x * unit, y * unit) for x, y in inner], fill=BRAND)
    # The grid inside: two by two cells.
    line = max(1, round(3 * unit))
    for x in (39, 50, 61):
        draw.line([(x * unit, 34 * unit), (x * unit, 60 * unit)], fill=(255, 255, 255), width=line)
    for y in (36, 47, 58):
        draw.line([(37 * unit, y * unit), (63 * unit, y * unit)], fill=(255, 255, 255), width=line)
    # The reporting point: a red dot in one cell.
    radius = 5 * unit
    draw.ellipse([(55.5 * unit - radius, 41.5 * unit - radius), (55.5 * unit + radius, 41.5 * unit + radius)],
                 fill=ACCENT, outline=(255, 255, 255), width=max(1, round(1.5 * unit)))
    return image.resize((size, size), Image.Resampling.LANCZOS)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for size in SIZES:
        draw_icon(size).save(OUT / f"icon-{size}.png", optimize=True)


if __name__ == "__main__":
    main()
