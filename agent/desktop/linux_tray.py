"""Linux: what the tray icon does differently here (see `TrayTraits`).

pystray's xorg backend, unless PYSTRAY_BACKEND names another: GTK through PyGObject costs the daemon
about 30 MB; xorg draws the icon with python-xlib, which the X11 desktop layer loads anyway, and the
tray adds the menu (Tk) and notifications (D-Bus) that xorg lacks. appindicator would need a
StatusNotifier host, which plain X11 trays are not.
"""

from __future__ import annotations

from phitray.desktop import TrayTraits

TRAITS = TrayTraits(
    library_defaults=(
        ("PYSTRAY_BACKEND", "xorg"),
        # For an explicit gtk: a tray icon needs no OpenGL, and without this GTK may load Mesa (libLLVM, ~45 MB).
        ("GDK_GL", "disable"),
    ),
    notify_over_dbus=True,
)
