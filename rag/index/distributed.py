"""`rag index --ray`: a build whose per-document work runs on a Ray cluster, through Ray Data.

Only documents that changed since the previous build go through Ray (the others keep their parts,
as in build_index). Ray tasks make each one's parts (`DocumentParts.of`: repair, normalise,
metadata, chunks, sentences) and cut its passages into slices of `embed_batch_size`; a pool of
embedder actors embeds the slices with the project's Embedder, so a vector is the single-process
build's. The driver streams the results back, puts every vector in its own embedding cache and
hands the parts to build_index: the corpus-wide parts (BM25, the bridge, FAISS), the embed stage
(which finds every vector in the cache) and the atomic publishing are the single-process lines.

After a failure: a preparing task whose worker dies is retried, and an embedder that dies is
restarted and the task it held retried (`ray_retries` times each; a task is one block: a document,
or several past MAX_BLOCKS documents), the slices it had embedded found in the cache. The
embedders keep their vectors in the cache at the driver's cache path: the driver's own file on a
local Ray, else a file of each node's at that path (not one shared over NFS: SQLite's locking
there is not to be trusted). Every vector the driver received is in its cache too, so a re-run
after the driver dies embeds only what no cache the embedders read holds. Not resumed: preparing
is redone (it costs little beside embedding), and so is the driver's part (BM25, the bridge,
FAISS, publishing), which starts once every document is in.
"""

from __future__ import annotations

import logging
import os
import socket
import tempfile
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rag.embedding.model import Embedder, ModelError
from rag.index.build import DocumentParts, build_index
from rag.index.index import Index
from rag.index.progress import BuildProgress, counted
from rag.ingest.corpus import Corpus, Document
from rag.settings import Settings
from rag.timing import Stopwatch

if TYPE_CHECKING:
    from ray.data import Dataset

logger = logging.getLogger(__name__)
Batch = dict[str, Any]  # a Ray Data batch: column name -> values
MAX_BLOCKS = 10_000  # a block (one task each stage) per document up to this many; past it, blocks of several
EMBEDDERS_PER_PREPARER = 8  # preparing a document costs 1/150 of embedding its passages or less (seed corpus, CMRC)
CONNECT_TIMEOUT = 5.0  # seconds to reach a cluster's address (Ray itself waits minutes, then exits)


class ClusterError(RuntimeError):
    """Ray cannot be started or reached, or the distributed part of a build failed."""


def prepare_slices(settings: Settings, batch: Batch) -> Batch:
    """Documents in; out, one row per slice of at most `embed_batch_size` of a document's passages,
    its first slice carrying the document's parts (a document without passages gets one empty slice)."""
    rows: dict[str, list[Any]] = {"doc_id": [], "parts": [], "texts": [], "slices": []}
    step = settings.embed_batch_size
    for doc_id, text in zip(batch["doc_id"], batch["text"]):
        parts = DocumentParts.of(str(doc_id), str(text), settings)
        passages = parts.passages(settings)
        slices = [passages[low : low + step] for low in range(0, len(passages), step)] or [[]]
        for number, texts in enumerate(slices):
            rows["doc_id"].append(str(doc_id))
            rows["parts"].append(None if number else parts)
            rows["texts"].append(texts)
            rows["slices"].append(len(slices))
    return rows


class EmbedSlices:
    """One embedder of the pool: the project's Embedder, loaded once per actor, on the cache at the
    driver's cache path."""

    def __init__(self, settings: Settings, model_id: str) -> None:
        self.embedder = Embedder(settings.model, settings.embed_batch_size, _node_cache(settings.model_cache))
        if self.embedder.model_id != model_id:  # a --model folder that differs on this node
            raise ModelError(f"this node's model is {self.embedder.model_id}, the driver's {model_id}: give every node the same model folder")
        import ray

        if not self.embedder.bundled and ray.get_gpu_ids():  # the bundled model's C engine runs on CPUs only
            self.embedder.model.to("cuda")

    def __call__(self, batch: Batch) -> Batch:
        embedded = [self.embed_slice([str(t) for t in texts]) for texts in batch["texts"]]
        batch["vectors"], batch["cached"] = [vectors for vectors, _ in embedded], [cached for _, cached in embedded]
        return batch

    def embed_slice(self, texts: list[str]) -> tuple[np.ndarray, int]:
        """The slice's vectors, and how many of them the cache held."""
        hits: list[int] = []
        vectors = self.embedder.embed_passages(texts, progress=lambda done, cached: hits.append(done if cached else 0))
        return vectors, sum(hits)


@dataclass(frozen=True)
class RayBuild:
    """build_index with the changed documents prepared and embedded on Ray (a Builder for
    rag/index/lifecycle.py). `prepare` and `embed` are the two stages, replaceable by tests that
    inject faults."""

    address: str | None = None  # None: a local Ray; "auto" or "host:6379" (its GCS): join a cluster
    num_cpus: int | None = None  # a local Ray's CPUs (default: the machine's)
    embedders: int | None = None  # embedder actors (default: one per GPU for a torch model, else one per CPU)
    prepare: Callable[[Settings, Batch], Batch] = prepare_slices
    embed: type[EmbedSlices] = EmbedSlices

    def __call__(self, corpus: Corpus, index_dir: Path, settings: Settings, embedder: Embedder, previous: Index | None = None, clock: Stopwatch | None = None) -> Index:
        kept = previous.unchanged(corpus.documents) if previous else set()
        todo = [d for d in corpus.documents if d.doc_id not in kept]
        prepared: dict[str, DocumentParts] = {}
        if todo:
            with ray_session(self.address, self.num_cpus):
                prepared = collect(self.pipeline(todo, settings, embedder), len(todo), embedder)
        return build_index(corpus, index_dir, settings, embedder, previous, clock, prepared)

    def pipeline(self, docs: list[Document], settings: Settings, embedder: Embedder) -> Dataset:
        """Documents -> preparing tasks -> embedder actors, as a lazy Ray Dataset. A block of documents
        is one task of each stage: what a retried task, or a restarted embedder, redoes."""
        import ray
        from ray.data import ActorPoolStrategy, TaskPoolStrategy

        resources = ray.cluster_resources()
        gpu = not embedder.bundled and resources.get("GPU", 0) >= 1
        unit = "GPU" if gpu else "CPU"
        size = self.embedders or int(resources.get(unit, 1))
        logger.info("on Ray: %s on a %s each", counted(size, "embedder"), unit)
        if size > resources.get(unit, 0):
            logger.warning("%s asked for, and the cluster has %s: the build waits for it to grow", counted(size, "embedder"), counted(int(resources.get(unit, 0)), unit))
        _quiet_ray_data()
        documents = ray.data.from_items([{"doc_id": d.doc_id, "text": d.text} for d in docs], override_num_blocks=min(len(docs), MAX_BLOCKS))
        slices = documents.map_batches(
            partial(self.prepare, settings),
            compute=TaskPoolStrategy(size=max(1, size // EMBEDDERS_PER_PREPARER)),
            num_cpus=0,  # beside the embedders, which hold every CPU (waiting for a CPU, they would wait forever)
            max_retries=settings.ray_retries,
        )
        return slices.map_batches(
            self.embed,
            fn_constructor_kwargs={"settings": settings, "model_id": embedder.model_id},
            batch_size=1,  # a call embeds one slice: at most embed_batch_size passages
            compute=ActorPoolStrategy(size=size),
            num_cpus=1,
            num_gpus=1 if gpu else None,
            max_restarts=settings.ray_retries,
            max_task_retries=settings.ray_retries,
        )


def collect(results: Dataset, count: int, embedder: Embedder) -> dict[str, DocumentParts]:
    """Stream the embedded slices back: each document's parts kept, every vector put in the
    driver's embedding cache as it arrives (what a re-run after a crash finds there)."""
    parts: dict[str, DocumentParts] = {}
    received: Counter[str] = Counter()  # slices per document
    passages = cached = 0
    with BuildProgress().stage(f"prepare and embed {counted(count, 'document')} on Ray", count, "doc") as stage:
        try:
            for batch in results.iter_batches(batch_size=None, batch_format="numpy"):
                texts = [str(t) for row in batch["texts"] for t in row]
                if texts:
                    embedder.remember_passages(texts, np.concatenate(list(batch["vectors"])))
                for doc_id, part, slices in zip(batch["doc_id"], batch["parts"], batch["slices"]):
                    if part is not None:
                        parts[str(doc_id)] = part
                    received[str(doc_id)] += 1
                    if received[str(doc_id)] == slices:
                        stage.advance()
                passages, cached = passages + len(texts), cached + int(sum(batch["cached"]))
        except Exception as exc:  # a task's or an actor's error (RayError), or Ray Data's own
            raise ClusterError(f"the build on Ray failed: {_cause(exc)}") from exc
        stage.outcome = f"{counted(passages, 'passage')}, {cached} from the embedding cache"
    return parts


@contextmanager
def ray_session(address: str | None, num_cpus: int | None) -> Iterator[None]:
    """Connected to Ray for the duration: a local Ray started and stopped here, or a cluster
    joined and left; a session the caller opened already is used as it is."""
    import ray

    if ray.is_initialized():
        yield
        return
    if address not in (None, "auto"):
        _check_reachable(address)
    os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "fatal")  # Ray's C++ core: no warnings on the terminal (it gives one per embedder)
    local: dict[str, Any] = {"num_cpus": num_cpus, "include_dashboard": False} if address is None else {}
    try:
        with _stderr_silenced():  # nor the line it prints as it reads that setting
            ray.init(address=address or "local", log_to_driver=False, logging_level=logging.ERROR, **local)  # "local": a new Ray, never one `ray start` left running
    except (ConnectionError, ValueError, RuntimeError, SystemExit) as exc:  # SystemExit: Ray's own way out after minutes without an answer
        raise ClusterError(f"cannot {'start a local Ray' if address is None else f'join the Ray cluster at {address}'}: {_why(exc, address)}") from None
    try:
        yield
    finally:
        ray.shutdown()


def _check_reachable(address: str) -> None:
    """A clear error within seconds for an address nothing answers at, or that Ray Data cannot use."""
    if address.startswith("ray://"):  # its streaming executor needs the driver to be a node's worker
        raise ClusterError(f"Ray Data does not run through Ray Client ({address}): run `rag index --ray auto` on a node of the cluster, e.g. as a Ray job")
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ClusterError(f"bad Ray address {address!r}: give host:port (the cluster's GCS, port 6379 by default) or auto")
    try:
        socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT).close()
    except OSError as exc:
        raise ClusterError(f"cannot reach Ray at {address}: {exc.strerror or exc}") from None


@contextmanager
def _stderr_silenced() -> Iterator[None]:
    """File descriptor 2 to /dev/null for the duration: for what Ray's C++ core prints there."""
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _quiet_ray_data() -> None:
    """Ray Data's own progress bars and execution logs off: the build shows its one display per stage."""
    from ray.data import DataContext

    context = DataContext.get_current()
    context.enable_progress_bars = False
    context.print_on_execution_start = False
    warnings.filterwarnings("ignore", message="`ray_remote_args` is deprecated")  # the retry options: Ray 2.60 still honours them
    warnings.filterwarnings("ignore", message="The minimum number of concurrent actors")  # a corpus of fewer slices than embedders
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    logging.getLogger("ray.data._internal.progress").setLevel(logging.ERROR)  # "progress bars disabled", which we asked for


def _node_cache(path: Path) -> Path:
    """The driver's cache folder where this node can write it (the same folder on a local Ray or a
    shared file system), else a folder of this node's own."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        return path
    except OSError:
        return Path(tempfile.gettempdir()) / "rag-cache"


def _why(exc: BaseException, address: str | None) -> str:
    if address == "auto" and isinstance(exc, ConnectionError):  # Ray's own words name its `--address` flag
        return "no Ray cluster runs on this machine and RAY_ADDRESS is not set (start one with `ray start --head`, or give its address)"
    return _one_line(exc)


def _cause(exc: BaseException) -> str:
    """The error a Ray task or actor raised, in one line, rather than Ray's remote traceback."""
    cause = getattr(exc, "cause", None)
    return _one_line(cause) if isinstance(cause, BaseException) else _one_line(exc)


def _one_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[-1] if lines else type(exc).__name__
