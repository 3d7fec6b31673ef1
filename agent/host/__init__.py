"""The model host: the child process that keeps the model resident, the daemon's client of it, and the
controller that owns "the current host"."""
