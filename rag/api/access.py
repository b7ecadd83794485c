"""Who may do what: the API key (`Authorization: Bearer KEY` or `X-API-Key: KEY`, compared in
constant time) for document writes, and for everything but the page and the health probes when
reads are protected. Checked by the request guard (rag/api/guard.py) before any body is read."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from enum import Enum

from rag.api.errors import ApiError
from rag.settings import AccessSettings

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
DOCUMENTS = "/v1/documents"
ALWAYS_OPEN = frozenset({"/", "/healthz", "/readyz"})  # the page holds no data; /readyz hides its counts without the key


class Need(Enum):
    NOTHING = "nothing"
    READER = "reader"
    WRITER = "writer"


def need(method: str, path: str, access: AccessSettings) -> Need:
    if path.startswith(DOCUMENTS) and method in WRITE_METHODS:
        return Need.WRITER
    if access.protect_reads and path not in ALWAYS_OPEN:
        return Need.READER  # every /v1 endpoint, and /docs and /openapi.json too
    return Need.NOTHING


def presented_key(headers: Mapping[str, str]) -> str:
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return headers.get("x-api-key", "")


def key_is_valid(headers: Mapping[str, str], access: AccessSettings) -> bool:
    key = presented_key(headers)
    return bool(access.api_key and key) and hmac.compare_digest(key.encode(), access.api_key.encode())


def refusal(method: str, path: str, headers: Mapping[str, str], key_valid: bool, access: AccessSettings) -> ApiError | None:
    """Why this request may not proceed, or None (`key_valid`: what `key_is_valid` said of it)."""
    required = need(method, path, access)
    if required is Need.NOTHING or key_valid:
        return None
    if required is Need.WRITER and not access.api_key:
        return ApiError(403, "document changes are disabled on this server: start it with RAG_API_KEY set", "permission_denied")
    if not presented_key(headers):
        return ApiError(401, "send the API key as 'Authorization: Bearer KEY' or 'X-API-Key: KEY'", "authentication_error")
    return ApiError(401, "the API key is not valid", "authentication_error")
