"""Line charts as PNG with Pillow (already a dependency): enough to see a cost curve, nothing more."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw

COLOURS = ((31, 119, 180), (214, 39, 40), (44, 160, 44), (148, 103, 189))
PANEL_WIDTH, PANEL_HEIGHT, MARGIN = 460, 320, 56


@dataclass(frozen=True)
class Panel:
    title: str
    y_label: str
    series: dict[str, list[float]]  # name -> one value per x


def line_charts(path: Path, x_label: str, xs: list[int], panels: list[Panel]) -> Path:
    """Panels side by side; x positions evenly spaced (the sizes grow geometrically), labelled with their values."""
    image = Image.new("RGB", (PANEL_WIDTH * len(panels), PANEL_HEIGHT + 30), "white")
    draw = ImageDraw.Draw(image)
    for index, panel in enumerate(panels):
        left = index * PANEL_WIDTH + MARGIN
        right, top, bottom = (index + 1) * PANEL_WIDTH - 20, 40, PANEL_HEIGHT - 40
        values = [v for series in panel.series.values() for v in series]
        high = max(values) * 1.15 if values and max(values) > 0 else 1.0
        draw.text((left, 12), panel.title, fill="black")
        draw.line([(left, top), (left, bottom), (right, bottom)], fill="black")
        for step in range(5):
            value = high * step / 4
            y = bottom - (bottom - top) * step / 4
            draw.line([(left - 4, y), (right, y)], fill=(225, 225, 225) if step else "black")
            draw.text((left - 50, y - 6), f"{value:7.1f}", fill="black")
        spacing = (right - left - 40) / max(len(xs) - 1, 1)
        positions = [left + 20 + spacing * i for i in range(len(xs))]
        for x, label in zip(positions, xs):
            draw.line([(x, bottom), (x, bottom + 4)], fill="black")
            draw.text((x - 12, bottom + 8), str(label), fill="black")
        draw.text(((left + right) / 2 - 40, bottom + 22), x_label, fill="black")
        draw.text((left - 50, top - 18), panel.y_label, fill="black")
        for number, (name, series) in enumerate(panel.series.items()):
            colour = COLOURS[number % len(COLOURS)]
            points = [(x, bottom - (bottom - top) * v / high) for x, v in zip(positions, series)]
            draw.line(points, fill=colour, width=2)
            for x, y in points:
                draw.ellipse([x - 3, y - 3, x + 3, y + 3], fill=colour)
            draw.rectangle([right - 110, top + 4 + 16 * number, right - 100, top + 14 + 16 * number], fill=colour)
            draw.text((right - 95, top + 2 + 16 * number), name, fill="black")
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)
    return path
