"""API-key checks: `Authorization: Bearer KEY` or `X-API-Key: KEY`, compared in constant time."""

from __future__ import annotations

import hmac

from fastapi import Request

from rag.api.errors import ApiError
from rag.settings import AccessSettings


def presented_key(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.headers.get("x-api-key", "")


def check_key(request: Request) -> None:
    access: AccessSettings = request.app.state.access
    if not access.api_key:
        raise ApiError(403, "document changes are disabled on this server: start it with RAG_API_KEY set", "permission_denied")
    key = presented_key(request)
    if not key:
        raise ApiError(401, "send the API key as 'Authorization: Bearer KEY' or 'X-API-Key: KEY'", "authentication_error")
    if not hmac.compare_digest(key.encode(), access.api_key.encode()):
        raise ApiError(401, "the API key is not valid", "authentication_error")


def require_writer(request: Request) -> None:
    check_key(request)


def require_reader(request: Request) -> None:
    if request.app.state.access.protect_reads:
        check_key(request)
