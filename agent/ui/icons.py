"""Tray icons, drawn at start: one shape and one colour per state, so they differ at 16×16.

Colours are plain and saturated on purpose: the end-to-end tests find the icon
in a screenshot of the tray by them.
"""

from __future__ import annotations

from PIL import Image, ImageDraw

STATE_COLOURS = {
    "loading": (21, 101, 192),  # blue ring: the model is loading
    "ready": (46, 125, 50),  # green disc
    "busy": (249, 168, 37),  # amber disc with a dot: an action runs
    "paused": (117, 117, 117),  # grey disc with pause bars: hotkeys off
    "error": (198, 40, 40),  # red disc with a bar: the engine is down
}
SIZE = 64


def state_icon(state: str, size: int = SIZE) -> Image.Image:
    colour = STATE_COLOURS[state]
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    edge = size // 16
    box = (edge, edge, size - edge - 1, size - edge - 1)
    white = (255, 255, 255, 255)
    if state == "loading":
        draw.ellipse(box, outline=colour, width=max(2, size // 6))
        return image
    draw.ellipse(box, fill=colour)
    middle, unit = size // 2, max(1, size // 10)
    if state == "busy":
        draw.ellipse((middle - 2 * unit, middle - 2 * unit, middle + 2 * unit, middle + 2 * unit), fill=white)
    elif state == "paused":
        draw.rectangle((middle - 3 * unit, middle - 3 * unit, middle - unit, middle + 3 * unit), fill=white)
        draw.rectangle((middle + unit, middle - 3 * unit, middle + 3 * unit, middle + 3 * unit), fill=white)
    elif state == "error":
        draw.rectangle((middle - 3 * unit, middle - unit, middle + 3 * unit, middle + unit), fill=white)
    return image
