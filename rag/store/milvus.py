"""The Milvus store: an index's vectors and BM25 postings in two Milvus collections per build, the
same code for Milvus Lite in this process (a `.db` path) and a Milvus server (`http://host:19530`).

    rag_<index>_<build>_chunks      id (= position), doc_id, chunk_id, start, end, search_start,
                                    search_end, search_text, vector, sparse (our BM25 weights)
    rag_<index>_<build>_sentences   id (= position), doc_id, search_start, search_end, vector

`<index>` is a digest of the index folder's path, so several index folders can share one server
(`rag eval --set` experiments, tests) and a writer only ever drops its own collections.

Lexical search by our own weights: a chunk's sparse vector is its column of BM25's term-by-chunk
weight matrix, a query's holds each token's count, and under the inner product their product is
exactly the local store's BM25 score. Milvus's own BM25 function over its jieba analyzer
(`milvus_lexical=native`) is the measured alternative (bench/milvus_eval.py).

Dense search is exact (FLAT, inner product) up to `flat_max` vectors, HNSW beyond, as locally.
Collections are written once, verified with a Strong read, and never written again, so reads use
Bounded consistency: they cannot miss a row, and a server need not wait for the newest time tick.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import grpc
import numpy as np
from pymilvus import AnnSearchRequest, DataType, Function, FunctionType, MilvusClient, MilvusException, RRFRanker
from scipy import sparse

from rag.index.bm25 import BM25
from rag.index.faiss import choose_kind
from rag.index.publish import IndexStoreError
from rag.ingest.script import HAN_CHAR
from rag.settings import DenseIndexKind, MilvusLexical, Settings, StoreKind
from rag.store.base import Catalogue, Part, Ranking, Store

logger = logging.getLogger(__name__)
# pymilvus logs each failed call with its traceback on a console handler of its own, and Milvus
# Lite's server manager logs why it could not open a data folder; we raise IndexStoreError
# naming the URI and the fix instead.
for _name in ("pymilvus", "pymilvus.milvus_client"):
    logging.getLogger(_name).setLevel(logging.CRITICAL)
logging.getLogger("milvus_lite").addHandler(logging.NullHandler())

DEFAULT_DB = "milvus.db"  # Milvus Lite's data folder inside the index folder, when milvus_uri is empty
SERVER_SCHEMES = ("http://", "https://", "tcp://", "unix:")
CONNECT_SECONDS = 10.0
WRITE_BATCH = 2048  # rows per insert: a few MB per request, far below gRPC's limits
READ_BATCH = 4096  # ids per get
MAX_ID, MAX_TEXT = 4096, 65535  # VARCHAR bounds: a file name, a passage
NO_TERM = 2**32 - 2  # the dimension a chunk without tokens is given: Milvus refuses empty sparse vectors, and no query has it
READ, VERIFY = "Bounded", "Strong"
SPARSE = {"metric_type": "IP"}
NATIVE = {"metric_type": "BM25"}


def resolve_uri(settings: Settings, root: Path) -> str:
    """The configured URI, else Milvus Lite in the index folder `root`."""
    return settings.milvus_uri or str(root / DEFAULT_DB)


def embedded(uri: str) -> bool:
    """A Milvus Lite data folder opened in this process (only one process may hold it at a time)."""
    return not uri.startswith(SERVER_SCHEMES)


def namespace(root: Path) -> str:
    """The prefix of the collections of the index folder `root`."""
    return f"rag_{hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:8]}_"


def collection_names(root: Path, build: str) -> dict[Part, str]:
    stem = f"{namespace(root)}{build.replace('-', '_')}_"
    return {part: stem + part.value for part in Part}


def connect(uri: str) -> MilvusClient:
    """A client of the Milvus at `uri`; IndexStoreError, naming it and the fix, when unreachable."""
    try:
        return MilvusClient(uri, timeout=CONNECT_SECONDS)
    except MilvusException as exc:
        if embedded(uri) and _locked(Path(uri)):
            raise IndexStoreError(
                f"the Milvus Lite data at {uri} is open in another process (a running `rag serve`?), and Milvus Lite opens it in one"
                f" process only: use that process (its /v1/documents API), stop it, or serve the data with `milvus-lite server --data-dir {uri}`"
                " and set RAG_MILVUS_URI=http://127.0.0.1:19530"
            ) from None
        raise IndexStoreError(f"cannot reach Milvus at {uri} ({exc.message}); start it, set RAG_MILVUS_URI to a running Milvus or a .db path for Milvus Lite, or set RAG_STORE=local") from None


@contextmanager
def reaching(uri: str) -> Iterator[None]:
    """Milvus's failures as the project's error, naming the URI and what to do."""
    try:
        yield
    except (MilvusException, grpc.RpcError) as exc:
        why = exc.message if isinstance(exc, MilvusException) else str(exc)
        raise IndexStoreError(f"Milvus at {uri} failed ({why}); check that it is running (RAG_MILVUS_URI), or set RAG_STORE=local") from None


def _locked(data: Path) -> bool:
    """Whether another process holds Milvus Lite's lock on the data folder `data`."""
    lock = data / "LOCK"
    if not lock.is_file():
        return False
    with lock.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
    return False


def query_vector(tokens: list[str], vocab: dict[str, int]) -> dict[int, float]:
    """A query as a sparse vector: each known token's count at its term id. Its inner product with
    a chunk's column of BM25's weight matrix is the chunk's BM25 score (BM25.scores)."""
    return {vocab[t]: float(n) for t, n in Counter(t for t in tokens if t in vocab).items()}


def chunk_weights(weights: sparse.csc_matrix, chunk: int) -> dict[int, float]:
    """A chunk's column of BM25's term-by-chunk weight matrix, as a sparse vector."""
    low, high = weights.indptr[chunk], weights.indptr[chunk + 1]
    column = dict(zip(weights.indices[low:high].tolist(), weights.data[low:high].tolist()))
    return column or {NO_TERM: 1.0}


def query_text(tokens: list[str]) -> str:
    """Text for Milvus's analyzer from our tokens: overlapping character bigrams (长沙, 沙签, 签约)
    joined back into the run they came from (长沙签约), every other token a word of its own."""
    words: list[str] = []
    for token in tokens:
        if words and len(token) == 2 and words[-1][-1] == token[0] and all(HAN_CHAR.fullmatch(ch) for ch in token):
            words[-1] += token[1]
        else:
            words.append(token)
    return " ".join(words)


class MilvusStore(Store):
    kind = StoreKind.MILVUS
    fuses = True

    def __init__(self, client: MilvusClient, uri: str, record: dict[str, Any], bm25: BM25, settings: Settings):
        self.client, self.uri, self.bm25 = client, uri, bm25
        self.names = {Part(p): name for p, name in record["collections"].items()}
        self.kinds = {Part(p): kind for p, kind in record["index"].items()}
        self.lexicon = MilvusLexical(record["lexical"])
        self.dimension, self.ef = int(record["dimension"]), settings.hnsw_ef_search
        self.sizes = {part: self._count(part, READ) for part in Part}

    def lexical(self, tokens: list[str], k: int) -> Ranking:
        query, field, params = self._lexical_query(tokens)
        if not query or k <= 0:
            return _ranking([], [])
        return self._search(Part.CHUNKS, query, field, params, k)

    def lexical_scores(self, tokens: list[str], chunks: list[int]) -> np.ndarray:
        query, field, params = self._lexical_query(tokens)
        if not query or not chunks:
            return np.zeros(len(chunks), dtype=np.float32)
        ids, scores = self._search(Part.CHUNKS, query, field, params, len(set(chunks)), f"id in {sorted(set(chunks))}")
        found = dict(zip(ids.tolist(), scores.tolist()))
        return np.array([found.get(c, 0.0) for c in chunks], dtype=np.float32)

    def dense(self, part: Part, vector: np.ndarray, k: int) -> Ranking:
        if k <= 0:
            return _ranking([], [])
        return self._search(part, vector.astype(np.float32).tolist(), "vector", self._dense_params(part, k), k)

    def vectors(self, part: Part, ids: list[int]) -> np.ndarray:
        found: dict[int, list[float]] = {}
        wanted = sorted(set(ids))
        with reaching(self.uri):
            for low in range(0, len(wanted), READ_BATCH):
                rows = self.client.get(self.names[part], ids=wanted[low : low + READ_BATCH], output_fields=["vector"], consistency_level=READ)
                found.update((int(row["id"]), row["vector"]) for row in rows)
        if len(found) != len(wanted):
            raise IndexStoreError(f"Milvus at {self.uri} lacks {len(wanted) - len(found)} rows of {self.names[part]}; run `rag index --rebuild`")
        return np.array([found[i] for i in ids], dtype=np.float32).reshape(len(ids), self.dimension)

    def size(self, part: Part) -> int:
        return self.sizes[part]

    def hybrid(self, tokens: list[str], vector: np.ndarray, k: int, rrf_k: int) -> Ranking:
        """Milvus's own hybrid search: its RRFRanker joins the chunks' lexical and dense rankings,
        unweighted and without the chunks that only their sentences bring (Retriever.dense_ranking)."""
        query, field, params = self._lexical_query(tokens)
        requests = [AnnSearchRequest([vector.astype(np.float32).tolist()], "vector", self._dense_params(Part.CHUNKS, k), k)]
        if query:
            requests.insert(0, AnnSearchRequest([query], field, params, k))
        with reaching(self.uri):
            hits = self.client.hybrid_search(self.names[Part.CHUNKS], requests, RRFRanker(rrf_k), limit=k, output_fields=["id"], consistency_level=READ)[0]
        return _ranking([h["id"] for h in hits], [h["distance"] for h in hits])

    def _lexical_query(self, tokens: list[str]) -> tuple[Any, str, dict[str, Any]]:
        if self.lexicon == MilvusLexical.NATIVE:
            return query_text(tokens), "text_sparse", NATIVE
        return query_vector(tokens, self.bm25.vocab), "sparse", SPARSE

    def _dense_params(self, part: Part, k: int) -> dict[str, Any]:
        return {"metric_type": "IP", "params": {"ef": max(self.ef, k)}} if self.kinds[part] == "HNSW" else {"metric_type": "IP"}

    def _search(self, part: Part, query: Any, field: str, params: dict[str, Any], k: int, where: str = "") -> Ranking:
        with reaching(self.uri):
            hits = self.client.search(self.names[part], data=[query], anns_field=field, filter=where, limit=k, search_params=params, output_fields=["id"], consistency_level=READ)[0]
        # Milvus Lite reports a BM25 score negated, as a distance; a server, as the score
        return _ranking([h["id"] for h in hits], [abs(h["distance"]) if field == "text_sparse" else h["distance"] for h in hits])

    def _count(self, part: Part, level: str) -> int:
        with reaching(self.uri):
            return int(self.client.query(self.names[part], filter="", output_fields=["count(*)"], consistency_level=level)[0]["count(*)"])

    @classmethod
    def write(cls, built: Store, catalogue: Catalogue, directory: Path, name: str, settings: Settings) -> tuple[Store, dict[str, Any]]:
        """New collections for the build `name`, filled from `built`, flushed, loaded and verified
        before the build is published; on failure they are dropped (or swept by the next writer)."""
        root, lexicon = directory.parent, MilvusLexical(settings.milvus_lexical)
        uri = resolve_uri(settings, root)
        client, names = connect(uri), collection_names(root, name)
        dimension = built.vectors(Part.CHUNKS, []).shape[1]
        kinds = {part: "FLAT" if choose_kind(built.size(part), settings) == DenseIndexKind.FLAT else "HNSW" for part in Part}
        record = {"kind": cls.kind.value, "collections": {p.value: n for p, n in names.items()}, "index": {p.value: k for p, k in kinds.items()}, "lexical": lexicon.value, "dimension": dimension}
        try:
            with reaching(uri):
                _fill(client, names[Part.CHUNKS], _chunk_schema(dimension, lexicon), _index_params(client, kinds[Part.CHUNKS], lexicon, settings), _chunk_rows(built, catalogue))
                _fill(client, names[Part.SENTENCES], _sentence_schema(dimension), _index_params(client, kinds[Part.SENTENCES], None, settings), _sentence_rows(built, catalogue))
            store = cls(client, uri, record, catalogue.bm25, settings)
            expected = {Part.CHUNKS: len(catalogue.chunks), Part.SENTENCES: len(catalogue.sentences)}
            if any(store._count(part, VERIFY) != expected[part] for part in Part):
                raise IndexStoreError(f"Milvus at {uri} did not keep every row written to {', '.join(names.values())}")
        except BaseException:
            _drop(client, uri, names.values())
            raise
        return store, record

    @classmethod
    def open(cls, build: Path, record: dict[str, Any], bm25: BM25, settings: Settings) -> Store:
        uri = resolve_uri(settings, build.parent)
        client = connect(uri)
        with reaching(uri):
            for name in record["collections"].values():
                if not client.has_collection(name):
                    why = "dropped, or RAG_MILVUS_URI names another Milvus"
                    raise IndexStoreError(f"Milvus at {uri} has no collection {name}, which the index at {build.parent} needs ({why}); run `rag index --rebuild`")
                client.load_collection(name)
        return cls(client, uri, record, bm25, settings)

    @classmethod
    def sweep(cls, root: Path, kept: set[str], settings: Settings) -> None:
        """Drop this index folder's collections that no kept build names: those of pruned builds,
        and those a killed build left before it could publish."""
        uri, prefix = resolve_uri(settings, root), namespace(root)
        keep = tuple(f"{prefix}{build.replace('-', '_')}_" for build in kept if build)
        try:
            client = connect(uri)
            with reaching(uri):
                stale = [n for n in client.list_collections() if n.startswith(prefix) and not n.startswith(keep)]
        except IndexStoreError as exc:
            logger.warning("could not drop the collections of old builds (%s); the next build will", exc)
            return
        _drop(client, uri, stale)


def _ranking(ids: list[int], scores: list[float]) -> Ranking:
    """Best first, ties by position, as BM25's top_scores orders them (a lexical search returns only
    chunks sharing a term with the query, so none scores 0)."""
    ids_a, scores_a = np.asarray(ids, dtype=np.int64), np.asarray(scores, dtype=np.float32)
    order = np.lexsort((ids_a, -scores_a))
    return ids_a[order], scores_a[order]


def _chunk_schema(dimension: int, lexicon: MilvusLexical) -> Any:
    schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("doc_id", DataType.VARCHAR, max_length=MAX_ID)
    schema.add_field("chunk_id", DataType.VARCHAR, max_length=MAX_ID)
    for offset in ("start", "end", "search_start", "search_end"):
        schema.add_field(offset, DataType.INT64)
    analysed = {"enable_analyzer": True, "analyzer_params": {"tokenizer": "jieba"}} if lexicon == MilvusLexical.NATIVE else {}
    schema.add_field("search_text", DataType.VARCHAR, max_length=MAX_TEXT, **analysed)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dimension)
    schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    if lexicon == MilvusLexical.NATIVE:
        schema.add_field("text_sparse", DataType.SPARSE_FLOAT_VECTOR)
        schema.add_function(Function(name="bm25", function_type=FunctionType.BM25, input_field_names=["search_text"], output_field_names=["text_sparse"]))
    return schema


def _sentence_schema(dimension: int) -> Any:
    schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("doc_id", DataType.VARCHAR, max_length=MAX_ID)
    schema.add_field("search_start", DataType.INT64)
    schema.add_field("search_end", DataType.INT64)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dimension)
    return schema


def _index_params(client: MilvusClient, kind: str, lexicon: MilvusLexical | None, settings: Settings) -> Any:
    """Dense: exact or HNSW (its graph as the local store builds it); lexical: inverted lists."""
    params = client.prepare_index_params()
    graph = {"M": settings.hnsw_m, "efConstruction": settings.hnsw_ef_construction} if kind == "HNSW" else {}
    params.add_index("vector", index_type=kind, metric_type="IP", params=graph)
    if lexicon is not None:
        params.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="IP")
    if lexicon == MilvusLexical.NATIVE:
        params.add_index("text_sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25", params={"bm25_k1": settings.bm25_k1, "bm25_b": settings.bm25_b})
    return params


def _fill(client: MilvusClient, name: str, schema: Any, index: Any, batches: Iterator[list[dict[str, Any]]]) -> None:
    """One collection created, filled, flushed (sealed and persisted) and loaded. The index is
    created without waiting for it (a server builds it on flush; load waits for what it needs)."""
    if client.has_collection(name):  # a leftover of the same name can only be a failed attempt
        client.drop_collection(name)
    client.create_collection(name, schema=schema, consistency_level=READ)
    client.create_index(name, index, sync=False)
    for rows in batches:
        client.insert(name, rows)
    client.flush(name)
    client.load_collection(name)


def _chunk_rows(built: Store, catalogue: Catalogue) -> Iterator[list[dict[str, Any]]]:
    weights = catalogue.bm25.weights.tocsc()  # a chunk's column: its terms and their weights
    fields = lambda i, c: {
        "doc_id": c.doc_id, "chunk_id": c.chunk_id, "start": c.start, "end": c.end, "search_start": c.search_start,
        "search_end": c.search_end, "search_text": c.search_text, "sparse": chunk_weights(weights, i),
    }  # fmt: skip
    return _rows(built, Part.CHUNKS, catalogue.chunks, fields)


def _sentence_rows(built: Store, catalogue: Catalogue) -> Iterator[list[dict[str, Any]]]:
    return _rows(built, Part.SENTENCES, catalogue.sentences, lambda i, s: {"doc_id": s.doc_id, "search_start": s.search_start, "search_end": s.search_end})


def _rows(built: Store, part: Part, items: Sequence[Any], fields: Callable[[int, Any], dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    """Rows of `part`, WRITE_BATCH at a time: each item's position, `fields` and its stored vector."""
    for low in range(0, len(items), WRITE_BATCH):
        ids = list(range(low, min(low + WRITE_BATCH, len(items))))
        yield [{"id": i, **fields(i, items[i]), "vector": vector} for i, vector in zip(ids, built.vectors(part, ids))]


def _drop(client: MilvusClient, uri: str, names: Any) -> None:
    """Drop collections, each at once (Milvus drops a collection atomically); a failure is logged,
    as the next writer's sweep drops what is left."""
    for name in names:
        try:
            if client.has_collection(name):
                client.drop_collection(name)
                logger.info("dropped Milvus collection %s at %s", name, uri)
        except (MilvusException, grpc.RpcError) as exc:
            logger.warning("could not drop Milvus collection %s at %s: %s", name, uri, exc)
