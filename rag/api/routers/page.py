"""The chat page: one static HTML file with inline script, no build step."""

from importlib.resources import files

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(tags=["page"])


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def chat_page() -> str:
    return files("rag.api").joinpath("static/chat.html").read_text(encoding="utf-8")
