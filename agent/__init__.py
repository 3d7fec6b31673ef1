"""Phi Tray: private writing help from a local model, on a global hotkey."""

__version__ = "0.1.0"
