"""The FastAPI application: routers, error handlers and the engine, loaded once at start-up."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI

from rag.answering.generation import Generator
from rag.api import errors
from rag.api.backend import Backend
from rag.api.guard import RequestGuard
from rag.api.routers import chat, documents, health, page, qa
from rag.engine import Engine
from rag.settings import Settings, load_settings


def create_app(settings: Settings | None = None, load: Callable[[], Engine] | None = None, generator: Generator | None = None) -> FastAPI:
    """The app over `settings` (default: from the environment, RAG_CORPUS, RAG_INDEX, ...);
    `load` replaces how the engine is opened (tests hand in a ready one)."""
    settings = settings or load_settings()
    llm = settings.llm
    backend = Backend(load or (lambda: Engine.open(settings)), generator or (Generator(llm) if llm else None), settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        backend.start()
        yield
        backend.stop()

    app = FastAPI(title="rag", summary="Cited answers from Chinese news, in English, Simplified or Traditional Chinese.", lifespan=lifespan)
    app.state.backend = backend
    app.state.settings = settings
    errors.install(app)
    for module in (qa, chat, documents, health, page):
        app.include_router(module.router)
    app.add_middleware(RequestGuard, settings=settings)
    return app
