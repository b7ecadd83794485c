"""Web app entry point: `uvicorn serve:app` (or `rag serve`). Settings come from the environment:
every setting of rag/settings.py as RAG_<NAME> (RAG_CORPUS, RAG_INDEX, RAG_MODEL; RAG_API_KEY
enables document writes; RAG_PROTECT_READS; RAG_LLM_BASE_URL ...)."""

from rag.api.app import create_app
from rag.cli import configure_logging

configure_logging(quiet=False)  # progress, warnings and the access log on stderr
app = create_app()
