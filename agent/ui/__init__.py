"""The agent's windows: tray icon and menu (pystray), popup and picker (tkinter).

Tk owns the main thread; pystray runs on its own thread. Anything that touches
a Tk object from another thread goes through `UiQueue.call_soon`, which never waits.
"""
