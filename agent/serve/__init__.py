"""The local endpoint: the resident model served to other programs on this PC, off by default.

OpenAI-compatible (`/v1/models`, `/v1/chat/completions`) and Ollama-compatible
(`/api/tags`, `/api/chat`, `/api/generate`) routes on 127.0.0.1 and ::1, run
by uvicorn on the daemon's "endpoint" thread (`server.py`), imported only when
the endpoint starts: with `[server] enabled = false` the daemon loads none of
it. Every request passes `guard.py` (a loopback Host, no foreign browser
Origin, the bearer token of `token.py`), is read into a model `Request` by
`wire.py`, and takes its turn at the current host's gate (host/gate.py),
behind the person's own jobs.
"""
