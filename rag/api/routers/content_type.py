"""POST bodies must be declared JSON: a form post or plain text gets a clear 415, not a guess."""

from fastapi import Request

from rag.api.errors import ApiError


def require_json(request: Request) -> None:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json" and not content_type.endswith("+json"):
        raise ApiError(415, f"send the body as application/json (got {content_type or 'no content type'})")
