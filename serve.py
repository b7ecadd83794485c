"""Web app entry point: `uvicorn serve:app` (or `rag serve`). Settings come from the environment:
RAG_CORPUS, RAG_INDEX, RAG_MODEL; RAG_API_KEY (enables document writes) and RAG_PROTECT_READS; and
optionally RAG_LLM_BASE_URL / RAG_LLM_MODEL / RAG_LLM_API_KEY."""

from rag.api.app import create_app

app = create_app()
