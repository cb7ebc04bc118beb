"""The UI's answer to DNS rebinding and cross-site requests: an ASGI layer in front of all of Gradio.

A request is served only when its Host header names an allowed host (the loopback names, the address
the UI listens on, and the names given with `posekit ui --allowed-host`) and, when it carries an Origin
header (every cross-site request does, preflights included), that origin is the UI itself: an allowed
host on the same port. Anything else gets 403 and a one-line text body before Gradio sees it, so a web
page on another name, or one that a rebound DNS name points here, can neither drive the UI nor read its
answers, and no preflight ever reflects a foreign origin.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
WILDCARD_HOSTS = ("0.0.0.0", "::", "")

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Awaitable[None]]


def allowed_hosts(listen_host: str, extra: Iterable[str] = ()) -> frozenset[str]:
    """The host names the UI answers to: loopback, the listen address (unless a wildcard) and `extra`."""
    names = {*LOOPBACK_HOSTS, *(name.strip().lower().strip("[]") for name in extra if name.strip())}
    if listen_host.strip("[]") not in WILDCARD_HOSTS:
        names.add(listen_host.lower().strip("[]"))
    return frozenset(names)


def split_host(value: str, default_port: int | None) -> tuple[str, int | None] | None:
    """(host name lower-cased, port) of a Host header value ('name:port', '[::1]:port'); None if bad."""
    try:
        parts = urlsplit(f"//{value.strip()}")
        return (parts.hostname or "").lower(), parts.port or default_port
    except ValueError:
        return None


def check_request(headers: dict[bytes, bytes], scheme: str, allowed: frozenset[str]) -> str | None:
    """Why the request must be refused (a short reason), or None when it may be served."""
    default_port = 443 if scheme in ("https", "wss") else 80
    host_value = headers.get(b"host", b"").decode("latin-1")
    host = split_host(host_value, default_port)
    if host is None or host[0] not in allowed:
        return f"host {host_value!r} is not allowed (start the UI with --allowed-host NAME to add a name)"
    origin_value = headers.get(b"origin")
    if origin_value is None:
        return None
    origin_text = origin_value.decode("latin-1")
    try:
        origin = urlsplit(origin_text)
        origin_port = origin.port or (443 if origin.scheme == "https" else 80)
    except ValueError:
        return f"origin {origin_text!r} is not allowed"
    if origin.scheme not in ("http", "https") or (origin.hostname or "").lower() not in allowed:
        return f"origin {origin_text!r} is not allowed"
    if origin_port != host[1]:
        return f"origin {origin_text!r} is not this UI"
    return None


class HostGuard:
    """ASGI middleware: refuse (403) HTTP and websocket requests that fail check_request."""

    def __init__(self, app: ASGIApp, allowed: frozenset[str]) -> None:
        self.app, self.allowed = app, allowed

    async def __call__(self, scope: Scope, receive, send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers: dict[bytes, bytes] = {}
        for key, value in scope.get("headers", []):
            headers.setdefault(key.lower(), value)
        reason = check_request(headers, scope.get("scheme", "http"), self.allowed)
        if reason is None:
            await self.app(scope, receive, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
        else:
            body = f"posekit ui: {reason}\n".encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 403,
                    "headers": [
                        (b"content-type", b"text/plain; charset=utf-8"),
                        (b"content-length", b"%d" % len(body)),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})


def guard_lifespan(allowed: frozenset[str]):
    """A FastAPI lifespan that puts HostGuard in front of the app's whole middleware stack (Gradio's CORS
    layer included) when the server starts, before it accepts a connection."""
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def lifespan(app):
        app.middleware_stack = HostGuard(app.middleware_stack or app.build_middleware_stack(), allowed)
        yield

    return lifespan
