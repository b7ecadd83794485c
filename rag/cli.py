"""`rag` command line: index, add, remove, search, ask, eval, serve."""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
from pathlib import Path

from rag.config import load_settings, parse_overrides
from rag.corpus import (
    CorpusError,
    load_corpus,
    parse_document,
    read_bytes,
    remove_documents,
    store_document,
)
from rag.embedding.model import ModelError, resolve_model
from rag.service import Engine, QuestionError, open_index, update_index
from rag.store import IndexStoreError

USER_ERRORS = (CorpusError, IndexStoreError, ModelError, QuestionError, OSError, ValueError)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except BrokenPipeError:  # the reader went away (`rag ask ... | head`): stop quietly, like other tools
        _discard_stdout()
        return 141
    except USER_ERRORS as exc:
        print(f"rag: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("rag: interrupted", file=sys.stderr)
        return 130


def _discard_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's last flush does not fail on the closed pipe."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):  # no real file descriptor (captured output)
        pass


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rag", description="Cited search and answers over Chinese news articles.")
    commands = parser.add_subparsers(dest="command", required=True)

    index = commands.add_parser("index", help="build the index (only when stale, unless --rebuild)")
    _common(index)
    index.add_argument("--rebuild", action="store_true", help="rebuild even when the index is up to date")
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

    from rag.evaluation.harness import add_eval_command

    add_eval_command(commands, _common)

    serve = commands.add_parser("serve", help="the web app: chat page, OpenAI-compatible API, ask and search")
    _common(serve)
    serve.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.set_defaults(run=run_serve)
    return parser


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--corpus", type=Path, default=Path("corpus"), help="folder of .txt/.md articles (default ./corpus)")
    parser.add_argument("--index", type=Path, default=Path("index"), help="index folder (default ./index)")
    parser.add_argument("--model", default=None, help="sentence-transformers model folder (default: bundled multilingual-e5-small; env RAG_MODEL)")


def _output(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-k", type=int, default=None, help="number of passages (default 5)")
    parser.add_argument("--json", action="store_true", help="machine-readable JSON output")


def open_engine(args: argparse.Namespace, rebuild: bool = False) -> Engine:
    overrides = parse_overrides(getattr(args, "set", None) or [])
    return Engine.open(args.corpus, args.index, load_settings(model=args.model, **overrides), rebuild=rebuild)


def run_index(args: argparse.Namespace) -> int:
    index = open_index(args.corpus, args.index, *_embedding(args), rebuild=args.rebuild)
    return _report(index, args)


def run_add(args: argparse.Namespace) -> int:
    """Every file is checked before any is stored: one bad file changes nothing."""
    documents = {}
    for path in args.files:
        documents[path.name] = raw = read_bytes(path)
        parse_document(path.name, raw)

    def store() -> None:
        for doc_id, raw in documents.items():
            store_document(args.corpus, doc_id, raw)

    return _report(update_index(args.corpus, args.index, *_embedding(args), change=store), args)


def run_remove(args: argparse.Namespace) -> int:
    change = lambda: remove_documents(args.corpus, args.doc_ids)  # noqa: E731
    return _report(update_index(args.corpus, args.index, *_embedding(args), change=change), args)


def _embedding(args: argparse.Namespace) -> tuple:
    from rag.embedding.model import Embedder

    settings = load_settings(model=args.model)
    return settings, Embedder(settings.model, settings.embed_batch_size)


def _report(index, args: argparse.Namespace) -> int:
    print(f"index ready: {len(index.documents)} documents, {len(index.chunks)} chunks in {args.index}")
    return 0


def run_search(args: argparse.Namespace) -> int:
    if not args.query.strip():
        raise QuestionError("the query is empty")
    result = open_engine(args).search(args.query, args.k)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        for citation in result["results"]:
            print(format_citation(citation))
    return 0


def run_ask(args: argparse.Namespace) -> int:
    if args.question == "-":
        return ask_batch(args)
    if not args.question.strip():
        raise QuestionError("the question is empty")
    result = open_engine(args).ask(args.question, args.k)
    print(json.dumps(result, ensure_ascii=False) if args.json else format_answer(result))
    return 0


def ask_batch(args: argparse.Namespace) -> int:
    """One question per stdin line, one JSON object per output line, in order; one model load."""
    engine = open_engine(args)
    failures = 0
    for line in sys.stdin:
        question = line.rstrip("\n")
        try:
            result = engine.ask(question, args.k)
        except QuestionError as exc:
            failures += 1
            result = {"question": question, "error": str(exc)}
        if args.json:
            print(json.dumps(result, ensure_ascii=False), flush=True)
        else:
            print(result.get("error") or format_answer(result), flush=True)
    return 1 if failures else 0


def run_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from rag.api.app import create_app, engine_loader

    if not 0 < args.port < 65536:
        raise ValueError(f"port must be between 1 and 65535, not {args.port}")
    settings = load_settings(model=args.model)
    load_corpus(args.corpus)  # a missing corpus or model fails here, before the server starts
    resolve_model(settings.model)
    app = create_app(engine_loader(args.corpus, args.index, settings))
    uvicorn.run(app, host=args.host, port=args.port)
    return 0


def format_answer(result: dict) -> str:
    head = result["answer"] if not result["abstained"] else f"(no answer) {result['message']}"
    body = "\n\n".join(format_citation(c) for c in result["citations"])
    return f"{head}\n\n{body}"


def format_citation(c: dict) -> str:
    width = max(40, min(100, os.get_terminal_size(sys.stdout.fileno()).columns if sys.stdout.isatty() else 100))
    title = f"[{c['rank']}] {c['doc_id']}  chars {c['start']}-{c['end']}  score {c['score']:.4f}"
    text = " ".join(c["display_text"].split())
    return title + "\n" + textwrap.fill(text, width=width, initial_indent="    ", subsequent_indent="    ")


if __name__ == "__main__":
    sys.exit(main())
