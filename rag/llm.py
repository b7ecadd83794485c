"""One chat completion from an OpenAI-compatible server (Ollama, vLLM, llama.cpp), for the features
that use a language model when one is configured: writing answers (rag/answering/generation.py)
and translating English questions (rag/crosslingual/translation.py). Every failure is one error
type with a short reason, so each caller can fall back the same way."""

from __future__ import annotations

import httpx

from rag.settings import LLMSettings


class LLMError(Exception):
    """The server gave no usable reply; the message says why in a few words."""


class ChatClient:
    def __init__(self, settings: LLMSettings, client: httpx.Client | None = None):
        self.settings = settings
        self.client = client or httpx.Client(timeout=settings.timeout)

    def complete(self, system: str, user: str, timeout: float | None = None) -> str:
        """The reply's text to one system + user exchange, at temperature 0."""
        timeout = self.settings.timeout if timeout is None else timeout
        payload = {
            "model": self.settings.model,
            "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}],
            "temperature": 0,
        }
        headers = {"Authorization": f"Bearer {self.settings.api_key}"} if self.settings.api_key else {}
        try:
            response = self.client.post(f"{self.settings.base_url}/chat/completions", json=payload, headers=headers, timeout=timeout)
            response.raise_for_status()
            text = response.json()["choices"][0]["message"]["content"]
        except httpx.TimeoutException:
            raise LLMError(f"no reply within {timeout:g} s") from None
        except httpx.HTTPError as exc:
            raise LLMError(f"server unavailable: {type(exc).__name__}") from None
        except (ValueError, KeyError, IndexError, TypeError):
            raise LLMError("malformed reply") from None
        if not isinstance(text, str) or not text.strip():
            raise LLMError("empty reply")
        return text.strip()
