"""Windows: what the tray icon does differently here (see `TrayTraits`)."""

from __future__ import annotations

from phitray.desktop import TrayTraits

# pystray saves the icon as ICO; PNG-in-ICO draws red and blue swapped under some renderers (Wine),
# BMP-format ICO draws right everywhere.
TRAITS = TrayTraits(icon_encoding=(("bitmap_format", "bmp"),))
