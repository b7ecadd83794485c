"""`rag` command line: index, add, remove, search, ask, eval, serve."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import re
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

from pydantic import ValidationError

from rag.analysis.question import QuestionError, validate_question
from rag.embedding.model import Embedder, ModelError
from rag.engine import Engine
from rag.evaluation.dataset import DatasetError, load_qa
from rag.evaluation.harness import check_thresholds, evaluate
from rag.evaluation.report import print_table, write_html
from rag.index.build import build_index
from rag.index.distributed import ClusterError, RayBuild
from rag.index.index import Index
from rag.index.lifecycle import Builder, open_index, update_index
from rag.index.publish import IndexStoreError
from rag.ingest.corpus import (
    CorpusError,
    load_corpus,
    parse_document,
    read_bytes,
    remove_documents,
    store_document,
)
from rag.results import AskResult, Citation, SearchResult
from rag.settings import MAX_K, Settings, explain_errors, load_settings, parse_overrides

logger = logging.getLogger("rag")
EXPERIMENTS = "experiments"  # rag eval --set ...: indexes of other settings, under <index>/experiments/<settings key>
USER_ERRORS = (ClusterError, CorpusError, DatasetError, IndexStoreError, ModelError, QuestionError, OSError, ValueError)
LOCAL_RAY = "local"  # `rag index --ray` without an address


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.quiet)
    try:
        whole_numbers(args)
        return args.run(args)
    except BrokenPipeError:  # the reader went away (`rag ask ... | head`): stop quietly, like other tools
        _discard_stdout()
        return 141
    except USER_ERRORS as exc:
        print(f"rag: error: {error_text(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("rag: interrupted", file=sys.stderr)
        return 130


NUMBERS = {"k": (1, MAX_K), "port": (1, 65535), "num_cpus": (1, 100_000), "embedders": (1, 100_000)}  # whole-number options, checked here so that a bad one is one line, like every other error


def whole_numbers(args: argparse.Namespace) -> None:
    """-k and --port as numbers, or a ValueError saying what to type: `k must be a whole number
    from 1 to 50 (got 'abc')` (argparse's own would be a usage dump and "invalid int value")."""
    for name, (low, high) in NUMBERS.items():
        raw = getattr(args, name, None)
        if raw is None or isinstance(raw, int):
            continue
        if not re.fullmatch(r"\s*[+-]?\d+\s*", raw) or not low <= int(raw) <= high:
            raise ValueError(f"{name} must be a whole number from {low} to {high} (got {raw!r})")
        setattr(args, name, int(raw))


def error_text(exc: BaseException) -> str:
    """An error as one line for people; a pydantic report (a ValueError too) in words, not its dump."""
    if isinstance(exc, ValidationError):
        return "; ".join(explain_errors(exc.errors(), lambda loc: ".".join(map(str, loc))))
    return " ".join(str(exc).split("\n")) or type(exc).__name__


def configure_logging(quiet: bool) -> None:
    """Library modules log; the CLI decides what reaches the terminal: progress and warnings on
    stderr, prefixed "rag: " (only warnings with --quiet)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("rag: %(message)s"))
    logger.handlers[:] = [handler]
    logger.setLevel(logging.WARNING if quiet else logging.INFO)


def _discard_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's last flush does not fail on the closed pipe."""
    with contextlib.suppress(OSError, ValueError):  # no real file descriptor (captured output)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rag", description="Cited search and answers over Chinese news articles.")
    commands = parser.add_subparsers(dest="command", required=True)

    index = commands.add_parser("index", help="build the index (only when stale, unless --rebuild)")
    _common(index)
    index.add_argument("--rebuild", action="store_true", help="rebuild even when the index is up to date")
    index.add_argument("--ray", nargs="?", const=LOCAL_RAY, metavar="ADDRESS", help="prepare and embed changed documents on Ray: a local Ray without ADDRESS, else join a cluster (auto, or host:6379)")
    index.add_argument("--num-cpus", default=None, metavar="N", help="with --ray and no ADDRESS: the local Ray's CPUs (default: all)")
    index.add_argument("--embedders", default=None, metavar="N", help="with --ray: embedder actors (default: one per GPU for a --model folder, else one per CPU)")
    index.set_defaults(run=run_index)

    add = commands.add_parser("add", help="add or replace documents (copied into the corpus folder) and update the index")
    _common(add)
    add.add_argument("files", nargs="+", type=Path, help=".txt/.md files; each file name becomes its document id")
    add.set_defaults(run=run_add)

    remove = commands.add_parser("remove", help="remove documents from the corpus folder and the index")
    _common(remove)
    remove.add_argument("doc_ids", nargs="+", metavar="DOC_ID")
    remove.set_defaults(run=run_remove)

    search = commands.add_parser("search", help="ranked passages for a query")
    _common(search)
    search.add_argument("query")
    _output(search)
    search.set_defaults(run=run_search)

    ask = commands.add_parser("ask", help="a short answer with numbered citations ('-' reads questions from stdin)")
    _common(ask)
    ask.add_argument("question")
    _output(ask)
    ask.set_defaults(run=run_ask)

    evaluation = commands.add_parser("eval", help="evaluate BM25, dense and hybrid retrieval and answers on a QA set")
    _common(evaluation)
    evaluation.add_argument("qa_file", type=Path, help="QA set, one JSON object per line")
    evaluation.add_argument("--out", type=Path, default=Path("eval/reports"), help="folder for eval.json and report.html")
    evaluation.add_argument("--thresholds", type=Path, default=None, help="minimums for the shipped method (default: thresholds.json beside the QA file)")
    evaluation.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a setting for an experiment (repeatable); its index goes to <index>/experiments/")
    evaluation.set_defaults(run=run_eval)

    serve = commands.add_parser("serve", help="the web app: chat page, OpenAI-compatible API, ask and search")
    _common(serve)
    serve.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    serve.add_argument("--port", default=8000, help="port (default 8000)")
    serve.set_defaults(run=run_serve)
    return parser


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--corpus", type=Path, default=None, help="folder of .txt/.md articles (default: env RAG_CORPUS, else ./corpus)")
    parser.add_argument("--index", type=Path, default=None, help="index folder (default: env RAG_INDEX, else ./index)")
    parser.add_argument("--model", default=None, help="sentence-transformers model folder (default: bundled multilingual-e5-small; env RAG_MODEL)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress messages, only warnings and errors")


def _output(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-k", default=None, metavar="N", help=f"number of passages, 1 to {MAX_K} (default 5)")
    parser.add_argument("--json", action="store_true", help="machine-readable JSON output")


def settings_of(args: argparse.Namespace) -> Settings:
    """The settings for this command: environment, then flags, then `--set` overrides. An
    experiment (`--set`) never builds over the shared index: it gets its own folder."""
    overrides = parse_overrides(getattr(args, "set", None) or [])
    settings = load_settings(corpus=args.corpus, index=args.index, model=args.model, **overrides)
    if overrides:
        settings = settings.with_overrides(index=settings.index / EXPERIMENTS / settings.index_key())
    return settings


def run_index(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    return _report(open_index(settings.corpus, settings.index, settings, Embedder.of(settings), rebuild=args.rebuild, build=builder(args)), settings)


def builder(args: argparse.Namespace) -> Builder:
    """build_index, or with --ray its distributed form (which imports Ray only once a build is due)."""
    if args.ray is None:
        return build_index
    if args.num_cpus is not None and args.ray != LOCAL_RAY:
        raise ValueError("--num-cpus sizes a local Ray: a cluster joined with --ray ADDRESS has its own CPUs")
    return RayBuild(None if args.ray == LOCAL_RAY else args.ray, args.num_cpus, args.embedders)


def run_add(args: argparse.Namespace) -> int:
    """Every file is checked before any is stored: one bad file changes nothing."""
    settings = settings_of(args)
    documents = {}
    for path in args.files:
        documents[path.name] = raw = read_bytes(path)
        parse_document(path.name, raw)

    def store() -> None:
        for doc_id, raw in documents.items():
            store_document(settings.corpus, doc_id, raw)

    return _changed(settings, store)


def run_remove(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    return _changed(settings, lambda: remove_documents(settings.corpus, args.doc_ids))


def _changed(settings: Settings, change: Callable[[], object]) -> int:
    """Apply `change` to the corpus folder as the index's one writer, update the index, report."""
    return _report(update_index(settings.corpus, settings.index, settings, Embedder.of(settings), change=change), settings)


def _report(index: Index, settings: Settings) -> int:
    print(f"index ready: {len(index.documents)} documents, {len(index.chunks)} chunks in {settings.index}")
    return 0


def run_search(args: argparse.Namespace) -> int:
    validate_question(args.query, 1 if args.k is None else args.k)  # before the index and model load
    result = Engine.open(settings_of(args)).search(args.query, args.k)
    if args.json:
        print(_json(result))
    else:
        for citation in result.results:
            print(format_citation(citation))
    return 0


def run_ask(args: argparse.Namespace) -> int:
    if args.question == "-":
        return ask_batch(args)
    validate_question(args.question, 1 if args.k is None else args.k)  # before the index and model load
    result = Engine.open(settings_of(args)).ask(args.question, args.k)
    print(_json(result) if args.json else format_answer(result))
    return 0


def ask_batch(args: argparse.Namespace) -> int:
    """One question per stdin line, one JSON object per output line, in order; one model load."""
    engine = Engine.open(settings_of(args))
    failures = 0
    for line in sys.stdin:
        question = line.rstrip("\n")
        try:
            result = engine.ask(question, args.k)
        except QuestionError as exc:
            failures += 1
            print(json.dumps({"question": question, "error": str(exc)}, ensure_ascii=False) if args.json else str(exc), flush=True)
            continue
        print(_json(result) if args.json else format_answer(result), flush=True)
    return 1 if failures else 0


def run_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from rag.api.app import create_app

    settings = settings_of(args)
    load_corpus(settings.corpus)  # a missing corpus or model fails here, before the server starts
    Embedder.of(settings)
    app = create_app(settings)
    uvicorn.run(app, host=args.host, port=args.port, access_log=False)  # the app logs each request itself (rag/api/guard.py)
    return 0


def run_eval(args: argparse.Namespace) -> int:
    items = load_qa(args.qa_file)
    report = evaluate(Engine.open(settings_of(args)), items)
    report["qa_file"] = str(args.qa_file)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "eval.json").write_text(json.dumps(report, ensure_ascii=False, indent=1))
    write_html(report, args.out / "report.html")
    print_table(report)
    print(f"\nwrote {args.out / 'eval.json'} and {args.out / 'report.html'}")
    thresholds_file = args.thresholds or args.qa_file.parent / "thresholds.json"
    if not thresholds_file.exists():
        return 0
    failures = check_thresholds(report, json.loads(thresholds_file.read_text()))
    for failure in failures:
        print(f"THRESHOLD FAILED: {failure}", file=sys.stderr)
    print(f"thresholds ({thresholds_file}): {'FAILED' if failures else 'passed'}")
    return 1 if failures else 0


def _json(result: AskResult | SearchResult) -> str:
    return json.dumps(result.model_dump(mode="json"), ensure_ascii=False)


def format_answer(result: AskResult) -> str:
    """The short answer on its own line (bold on a terminal), then the quoted sentence and the
    citations; an abstention says why and lists the closest passages as such."""
    if result.abstained or result.answer is None:
        body = "\n\n".join(format_citation(c) for c in result.closest_passages or [])
        return f"(no answer) {result.message}\n\nClosest passages (they do not answer the question):\n\n{body}"
    head = result.answer
    if result.answer_span:
        span = result.answer_span.text
        shown = f"{BOLD}{span}{PLAIN}" if sys.stdout.isatty() else span
        head = f"{shown}\n{head.replace(span, shown, 1)}"
    body = "\n\n".join(format_citation(c) for c in result.citations)
    return f"{head}\n\n{body}"


BOLD, PLAIN = "\033[1m", "\033[0m"


def format_citation(c: Citation) -> str:
    """`[n] headline · source · date`, then where the passage is (file and its one character
    range), then the passage."""
    width = max(40, min(100, os.get_terminal_size(sys.stdout.fileno()).columns if sys.stdout.isatty() else 100))
    heading = f"[{c.rank}] " + " · ".join(part for part in (c.title, c.source, c.date) if part)
    where = f"    {c.doc_id} · chars {c.start}–{c.end} · score {c.score:.4f}"
    text = " ".join(c.display_text.split())
    return f"{heading}\n{where}\n" + textwrap.fill(text, width=width, initial_indent="    ", subsequent_indent="    ")


if __name__ == "__main__":
    sys.exit(main())
