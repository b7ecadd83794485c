"""Optional generated answers: an OpenAI-compatible model writes the answer from the numbered
passages, and every [n] it cites is checked against the passages it was given. Any failure (server
down, slow, malformed reply, invented citation) falls back to the extractive answer, and says so."""

from __future__ import annotations

import re

import httpx

from rag.llm import ChatClient, LLMError
from rag.results import AskResult, Citation, Generation
from rag.settings import LLMSettings

CITATION = re.compile(r"\[(\d+)\]")
SYSTEM_PROMPT = (
    "You answer questions about Chinese news articles using only the numbered passages given. "
    "Answer in one or two sentences, in the language and script of the question. "
    "Cite every claim with the number of its passage in square brackets, like [1]. "
    "If the passages do not answer the question, say so."
)
FALLBACK_NOTE = "The language model could not be used ({reason}); this is the extractive answer."


class GenerationError(LLMError):
    """The model's answer cannot be used."""


class Generator:
    def __init__(self, settings: LLMSettings, client: httpx.Client | None = None):
        self.settings = settings
        self.chat = ChatClient(settings, client)

    def write(self, question: str, citations: list[Citation]) -> str:
        try:
            text = self.chat.complete(SYSTEM_PROMPT, user_prompt(question, citations))
        except LLMError as exc:
            raise GenerationError(str(exc)) from None
        return checked(text, len(citations))


def user_prompt(question: str, citations: list[Citation]) -> str:
    passages = "\n\n".join(f"[{c.rank}] ({c.doc_id})\n{c.display_text}" for c in citations)
    return f"Passages:\n\n{passages}\n\nQuestion: {question}"


def checked(text: object, passages: int) -> str:
    """The answer, if it cites at least one passage and only passages 1..passages."""
    if not isinstance(text, str) or not text.strip():
        raise GenerationError("empty reply")
    cited = {int(n) for n in CITATION.findall(text)}
    if not cited:
        raise GenerationError("the reply cites no passage")
    invented = sorted(n for n in cited if not 1 <= n <= passages)
    if invented:
        raise GenerationError(f"the reply cites passages it was not given: {invented}")
    return text.strip()


def with_generated_answer(result: AskResult, generator: Generator | None) -> AskResult:
    """`result` of `Engine.ask`, its answer rewritten by the model when one is configured and the
    evidence was strong enough to answer at all."""
    if generator is None or result.abstained:
        return result.model_copy(update={"generation": Generation(mode="extractive")})
    try:
        text = generator.write(result.question, result.citations)
    except GenerationError as exc:
        return result.model_copy(update={"generation": Generation(mode="extractive", note=FALLBACK_NOTE.format(reason=exc))})
    generation = Generation(mode="llm", model=generator.settings.model)
    return result.model_copy(update={"extractive_answer": result.answer, "answer": text, "generation": generation})
