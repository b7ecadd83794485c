"""Every error as JSON in the OpenAI shape `{"error": {"message", "type", "code"}}`, so the
official clients raise a readable exception; nothing a client sends can cause a 500."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from rag.analysis.question import QuestionError
from rag.index.publish import IndexStoreError
from rag.ingest.corpus import CorpusError
from rag.settings import MAX_K, explain_errors


class ApiError(Exception):
    def __init__(self, status: int, message: str, kind: str = "invalid_request_error", headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.kind, self.headers = status, message, kind, headers


def error_response(status: int, message: str, kind: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": kind, "code": status}}, status_code=status, headers=headers)


def routing_message(request: Request, status: int, detail: str, headers: dict[str, str]) -> str:
    """Starlette's bare "Not Found" / "Method Not Allowed" said with what was asked and what to do."""
    if status == 404 and detail == "Not Found":
        return f"there is no {request.url.path} here: see /docs for the endpoints"
    if status == 405 and detail == "Method Not Allowed":
        return f"{request.url.path} does not take {request.method}: use {headers.get('Allow') or headers.get('allow') or 'another method'}"
    return detail


SOURCES = {"body", "query", "path", "header", "cookie"}  # FastAPI's first location part: where a value was sent, not its name
EXPECTS = {"k": f"a whole number from 1 to {MAX_K}"}  # what pydantic cannot tell: k's range is checked with the question


def describe(errors: list[dict]) -> str:
    """FastAPI's validation errors as one message for people: what was wrong with which value, and
    what to send instead (`k must be a whole number from 1 to 50 (got 'many')`), named as the
    client sent it (`messages[0].role`), never pydantic's wording or FastAPI's `body.k`."""
    if all(tuple(e.get("loc", ())) == ("body",) and e.get("type") == "missing" for e in errors) and errors:
        return "the request has no body: send a JSON object"
    return "; ".join(explain_errors(errors, where, EXPECTS)) or "the request is not valid"


def where(loc: tuple[int | str, ...]) -> str:
    """`('body', 'messages', 0, 'content', 'list[TextPart]')` -> `messages[0].content`: the path in
    what the client sent, without FastAPI's source or the union member pydantic was trying."""
    parts = list(loc[1:] if loc and loc[0] in SOURCES else loc)
    name = ""
    for part in parts:
        if isinstance(part, int):
            name += f"[{part}]"
        elif "[" in part or part in UNION_TAGS:
            continue
        else:
            name += f".{part}" if name else part
    return name or ("the request body" if loc[:1] == ("body",) else "")


UNION_TAGS = {"str", "int", "float", "bool", "list", "dict", "none", "bytes"}  # pydantic names the member of a union in the location


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.message, exc.kind, exc.headers)

    @app.exception_handler(QuestionError)
    async def question_error(request: Request, exc: QuestionError) -> JSONResponse:
        return error_response(422, str(exc), "invalid_request_error")

    @app.exception_handler(CorpusError)
    async def corpus_error(request: Request, exc: CorpusError) -> JSONResponse:
        return error_response(422, str(exc), "invalid_request_error")

    @app.exception_handler(IndexStoreError)
    async def index_error(request: Request, exc: IndexStoreError) -> JSONResponse:
        return error_response(503, str(exc), "service_unavailable")

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        if any(e.get("type") == "json_invalid" for e in errors):
            return error_response(400, "the body is not valid JSON", "invalid_request_error")
        return error_response(422, describe(errors), "invalid_request_error")

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        kind = "request_too_large" if exc.status_code == 413 else "invalid_request_error" if exc.status_code < 500 else "server_error"
        headers = dict(exc.headers) if exc.headers else None
        return error_response(exc.status_code, routing_message(request, exc.status_code, str(exc.detail), headers or {}), kind, headers)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        return error_response(500, f"internal error: {type(exc).__name__}", "server_error")
