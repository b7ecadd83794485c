"""Tokenizers for BM25 over Chinese, English and mixed text.

Both work on the search form (Simplified, lower case, NFKC), so Traditional and Simplified text
share tokens. Latin words and numbers are kept whole (`mini-led` also yields `mini` and `led`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from rag.ingest.script import HAN

HAN_RUN = re.compile(f"[{HAN}]+")
WORD = re.compile(r"[a-z0-9]+(?:[.\-][a-z0-9]+)*")
TOKEN = re.compile(HAN_RUN.pattern + "|" + WORD.pattern)


def _words(word: str) -> list[str]:
    parts = re.split(r"[.\-]", word)
    return [word] if len(parts) == 1 or word.replace(".", "").isdigit() else [word, *parts]


def bigram_tokens(text: str) -> list[str]:
    """Overlapping character bigrams of each Han run (a lone character stays a unigram)."""
    tokens: list[str] = []
    for match in TOKEN.finditer(text):
        run = match.group()
        if HAN_RUN.fullmatch(run):
            tokens.extend([run] if len(run) == 1 else [run[i : i + 2] for i in range(len(run) - 1)])
        else:
            tokens.extend(_words(run))
    return tokens


@lru_cache(maxsize=1)
def jieba_module():
    """jieba, loaded once, quiet, with its part-of-speech tagger (loaded on first use: ~1 s)."""
    import jieba
    import jieba.posseg  # makes jieba.posseg available

    jieba.setLogLevel(60)
    jieba.initialize()
    return jieba


def jieba_tokens(text: str) -> list[str]:
    """jieba's search-mode segmentation of Han runs (words plus their sub-words)."""
    tokens: list[str] = []
    for match in TOKEN.finditer(text):
        run = match.group()
        if HAN_RUN.fullmatch(run):
            tokens.extend(t for t in jieba_module().cut_for_search(run) if t.strip())
        else:
            tokens.extend(_words(run))
    return tokens


TOKENIZERS: dict[str, Callable[[str], list[str]]] = {"bigram": bigram_tokens, "jieba": jieba_tokens}


def get_tokenizer(name: str) -> Callable[[str], list[str]]:
    try:
        return TOKENIZERS[name]
    except KeyError:
        raise ValueError(f"unknown tokenizer {name!r}; choose one of {sorted(TOKENIZERS)}") from None
