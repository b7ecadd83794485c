"""English questions translated into Chinese by a language model, when one is configured
(`RAG_LLM_BASE_URL`): the retriever then searches with both the question and its translation
and fuses the rankings (rag/search/retriever.py). Without a server, or when it fails, is slow or
replies with something that is not a Chinese question, the question is searched as asked (with
the learned query map): the reader never waits long or sees an error for it."""

from __future__ import annotations

import logging

from rag.ingest.script import is_han
from rag.llm import ChatClient, LLMError
from rag.settings import Settings

logger = logging.getLogger(__name__)
SYSTEM_PROMPT = (
    "Translate the user's question into Simplified Chinese, as a Chinese reader would ask it. "
    "Write names of people, places, companies and works as Chinese sources write them. "
    "Reply with the translated question only."
)
MAX_REPLY_CHARS = 300  # a question's translation; a longer reply is an answer or a lecture, not a translation


class QueryTranslator:
    def __init__(self, chat: ChatClient, timeout: float):
        self.chat, self.timeout = chat, timeout

    @classmethod
    def of(cls, settings: Settings) -> QueryTranslator | None:
        llm = settings.llm
        return cls(ChatClient(llm), settings.llm_translate_timeout) if llm and settings.llm_translate_queries else None

    def translate(self, question: str) -> str | None:
        """The question in Chinese, or None (logged) when the model gives nothing usable in time."""
        try:
            reply = self.chat.complete(SYSTEM_PROMPT, question, timeout=self.timeout)
        except LLMError as exc:
            logger.info("question not translated (%s); searching it as asked", exc)
            return None
        reply = reply.strip().strip("\"'“”「」")
        if len(reply) > MAX_REPLY_CHARS or sum(map(is_han, reply)) < 2:
            logger.info("question not translated (the reply is not a Chinese question); searching it as asked")
            return None
        return reply
