"""The request guard: what every request passes before the application reads a byte of its body.

In order: the access log (one line per request, whatever happens below), the per-client rate
limit (429), the API key (401 / 403), and the body size (413: at once from Content-Length, or as
soon as a streamed body passes the limit). So an unauthenticated client cannot make the server
read, let alone parse, a large body.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from typing import Any

from fastapi import HTTPException
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rag.api.access import DOCUMENTS, key_is_valid, refusal
from rag.api.errors import ApiError, error_response
from rag.settings import Settings

logger = logging.getLogger("rag.access")
RATE_WINDOW = 60.0  # seconds: the rate limit counts requests per minute
PROBES = frozenset({"/healthz", "/readyz"})  # never rate limited: orchestrators poll them


class RequestGuard:
    def __init__(self, app: ASGIApp, settings: Settings):
        self.app, self.settings = app, settings
        self.access = settings.access  # built once, read on every request
        self.recent: dict[str, deque[float]] = {}  # client -> times of its requests in the window

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), [0]

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            headers = Headers(scope=scope)
            key_valid = key_is_valid(headers, self.access)
            scope.setdefault("state", {})["key_valid"] = key_valid  # /readyz shows its counts to key holders
            error = self._refusal(scope, headers, key_valid)
            if error is not None:
                await error_response(error.status, error.message, error.kind, error.headers)(scope, receive, sending)
            else:
                await self.app(scope, self._bounded(receive, self._limit(scope)), sending)
        finally:
            if self.settings.access_log:
                client = _client(scope)
                logger.info('%s "%s %s" %d %.1f ms', client, scope["method"], scope["path"], status[0] or 500, (time.perf_counter() - started) * 1000)

    def _refusal(self, scope: Scope, headers: Headers, key_valid: bool) -> ApiError | None:
        method, path = scope["method"], scope["path"]
        limited = self._rate_limited(_client(scope), path)
        if limited is not None:
            return limited
        denied = refusal(method, path, headers, key_valid, self.access)
        if denied is not None:
            return denied
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self._limit(scope):
            return _too_large(self._limit(scope))
        return None

    def _limit(self, scope: Scope) -> int:
        s = self.settings
        return s.max_document_body_bytes if scope["path"] == DOCUMENTS and scope["method"] == "POST" else s.max_body_bytes

    def _rate_limited(self, client: str, path: str) -> ApiError | None:
        limit = self.settings.rate_limit
        if not limit or path in PROBES:
            return None
        now = time.monotonic()
        times = self.recent.setdefault(client, deque())
        while times and now - times[0] > RATE_WINDOW:
            times.popleft()
        if len(times) >= limit:
            wait = max(1, int(RATE_WINDOW - (now - times[0])) + 1)
            return ApiError(429, f"more than {limit} requests a minute from {client}: retry in {wait} s", "rate_limit_exceeded", {"Retry-After": str(wait)})
        times.append(now)
        if len(self.recent) > 10_000:  # forget clients idle for a window, so the table stays small
            self.recent = {c: t for c, t in self.recent.items() if t and now - t[-1] <= RATE_WINDOW}
        return None

    @staticmethod
    def _bounded(receive: Receive, limit: int) -> Receive:
        """`receive`, refusing a body that grows past `limit` bytes (no Content-Length, or a false one)."""
        seen = [0]

        async def bounded() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                seen[0] += len(message.get("body", b""))
                if seen[0] > limit:
                    raise HTTPException(413, _too_large(limit).message)  # FastAPI passes this on as it is
            return message

        return bounded


def _too_large(limit: int) -> ApiError:
    return ApiError(413, f"the request body is over the {limit:,} byte limit", "request_too_large")


def _client(scope: Scope) -> str:
    client: Any = scope.get("client")
    return str(client[0]) if client else "-"
