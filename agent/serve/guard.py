"""Who may use the endpoint: programs of this PC's person, and web pages only where the person said so.

Each check is a pure function of the request's headers, so the hostile-request
suite can hold every one to its answer:
- the `Host` must name the loopback (127.0.0.1, localhost, [::1]): a page on
  another name that its DNS pointed at 127.0.0.1 (DNS rebinding) is refused;
- a browser's `Origin` is refused unless `[server] allowed_origins` lists it;
- the bearer token must match, on every route (the Ollama routes also without
  one when `[server] ollama_without_token = true`).
"""

from __future__ import annotations

from dataclasses import dataclass

from phitray.serve.token import matches
from phitray.settings import ServerSettings

LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "[::1]"})


@dataclass(frozen=True)
class Refusal:
    status: int
    message: str
    headers: tuple[tuple[str, str], ...] = ()


def host_name(host: str) -> str:
    """The name part of a Host header: `[::1]:11435` → `[::1]`, `Localhost.:80` → `localhost`."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[: host.find("]") + 1] if "]" in host else host
    return host.rsplit(":", 1)[0].rstrip(".") if ":" in host else host.rstrip(".")


def check_host(host: str | None) -> Refusal | None:
    if host is None or host_name(host) not in LOOPBACK_NAMES:
        return Refusal(403, "This endpoint answers only requests addressed to 127.0.0.1, localhost or [::1].")
    return None


def check_origin(origin: str | None, settings: ServerSettings) -> Refusal | None:
    if origin is None or origin.strip().rstrip("/").lower() in settings.allowed_origins:
        return None
    return Refusal(403, "Web pages may not use this endpoint unless [server] allowed_origins in settings.toml lists "
                        "their origin.")


def check_token(authorization: str | None, token: str, ollama_route: bool, settings: ServerSettings) -> Refusal | None:
    if authorization is None and ollama_route and settings.ollama_without_token:
        return None
    scheme, _, given = (authorization or "").strip().partition(" ")
    if scheme.lower() == "bearer" and matches(given.strip(), token):
        return None
    return Refusal(401, "A bearer token is needed: `phitray server token` prints it (Authorization: Bearer …).",
                   (("www-authenticate", 'Bearer realm="phitray"'),))


def check(headers: dict[str, str], token: str, ollama_route: bool, settings: ServerSettings) -> Refusal | None:
    """The first check the request fails, or None. `headers` by lower-case name."""
    return (check_host(headers.get("host")) or check_origin(headers.get("origin"), settings)
            or check_token(headers.get("authorization"), token, ollama_route, settings))


def cors_headers(origin: str | None, settings: ServerSettings) -> tuple[tuple[str, str], ...]:
    """What a listed page's browser needs to read an answer; nothing for everyone else."""
    if origin is None or origin.strip().rstrip("/").lower() not in settings.allowed_origins:
        return ()
    return (("access-control-allow-origin", origin.strip()), ("vary", "Origin"),
            ("access-control-allow-headers", "authorization, content-type"),
            ("access-control-allow-methods", "GET, POST, OPTIONS"))
