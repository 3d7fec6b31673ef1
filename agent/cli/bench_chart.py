"""`phitray bench`'s chart: one panel of bars per measure, a bar per backend, drawn with Pillow."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from phitray.cli.bench import BackendResult

COLOURS = ((31, 119, 180), (214, 39, 40), (44, 160, 44), (148, 103, 189), (255, 127, 14), (140, 86, 75))
PANEL_WIDTH, PANEL_HEIGHT = 300, 300
# (title, unit, the field of BackendResult)
PANELS = (("first load", "s", "first_load_seconds"), ("cached load", "s", "cached_load_seconds"),
          ("TTFT, short prompt", "ms", "ttft_short_ms"), ("TTFT, 1,000 tokens", "ms", "ttft_long_ms"),
          ("tokens/s", "", "tokens_per_second"))


def bar_chart(path: Path, model_id: str, results: list[BackendResult]) -> Path:
    """The chart as a PNG at `path` (its folder made); returns `path`."""
    from PIL import Image, ImageDraw

    measured = [result for result in results if not result.error]
    image = Image.new("RGB", (PANEL_WIDTH * len(PANELS), PANEL_HEIGHT + 50), "white")
    draw = ImageDraw.Draw(image)
    draw.text((10, 8), f"phitray bench: {model_id}", fill="black")
    for number, result in enumerate(measured):
        colour = COLOURS[number % len(COLOURS)]
        draw.rectangle([10 + 130 * number, PANEL_HEIGHT + 30, 20 + 130 * number, PANEL_HEIGHT + 40], fill=colour)
        draw.text((25 + 130 * number, PANEL_HEIGHT + 28), result.backend_id, fill="black")
    for index, (title, unit, field) in enumerate(PANELS):
        left, right, top, bottom = index * PANEL_WIDTH + 30, (index + 1) * PANEL_WIDTH - 20, 50, PANEL_HEIGHT
        values = [float(getattr(result, field)) for result in measured]
        high = max(values, default=0.0) * 1.2 or 1.0
        draw.text((left, 30), title, fill="black")
        draw.line([(left, top), (left, bottom), (right, bottom)], fill="black")
        width = (right - left - 20) / max(len(values), 1)
        for number, value in enumerate(values):
            x = left + 10 + width * number
            y = bottom - (bottom - top) * value / high
            draw.rectangle([x, y, x + width * 0.8, bottom - 1], fill=COLOURS[number % len(COLOURS)])
            draw.text((x, y - 14), f"{value:.1f}{unit}" if value < 100 else f"{value:.0f}{unit}", fill="black")
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)
    return path
