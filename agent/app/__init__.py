"""`phitray run`: the wiring of the running agent, and what its tray shows."""
