"""Records the API's response examples (rag/api/examples.json) by sending the requests of
rag/api/examples.py through the app, over copies of the corpus and index:

    python -m rag.api.record_examples --write     # from the repository root; --check only compares

Kept apart from the examples themselves: the routers import those, and this imports the app.
"""

from __future__ import annotations

import argparse
import json
import sys
from importlib.resources import files
from pathlib import Path
from typing import Any

from rag.api.examples import (
    ASK,
    CHAT,
    DOCUMENTS,
    EXAMPLES_FILE,
    KEPT_CITATIONS,
    PASSAGE_CONTEXT,
    PASSAGE_FROM,
    PASSAGE_SCRIPT,
    SEARCH_Q,
    SEARCH_SHOWN_K,
    load,
    value_of,
)


def trimmed(body: Any, keep: int = KEPT_CITATIONS) -> tuple[Any, int]:
    """`body` with each citation list cut to `keep`, and the longest list's length before."""
    longest = 0
    if isinstance(body, dict):
        out = {}
        for key, value in body.items():
            if key in ("citations", "closest_passages", "results") and isinstance(value, list):
                longest = max(longest, len(value))
                value = value[:keep]
            value, inner = trimmed(value, keep)
            longest = max(longest, inner)
            out[key] = value
        return out, longest
    if isinstance(body, list):
        items = [trimmed(item, keep) for item in body]
        return [item for item, _ in items], max((n for _, n in items), default=0)
    return body, 0


class Recorder:
    """Sends requests through the app and records what it answered, under operation, status and name."""

    def __init__(self) -> None:
        self.client: Any = None
        self.responses: dict[str, Any] = {}

    def record(self, operation: str, name: str, summary: str, method: str, url: str, expect: int, description: str = "", trim: bool = False, **kwargs: Any) -> Any:
        response = self.client.request(method, url, **kwargs)
        if response.status_code != expect:
            raise SystemExit(f"{method} {url} answered {response.status_code}, not {expect}: {response.text[:300]}")
        media_type = response.headers["content-type"].split(";")[0]
        body = response.json() if media_type == "application/json" else response.text
        if trim:
            body, before = trimmed(body)
            if before > KEPT_CITATIONS:
                description = f"{description} Citations cut to {KEPT_CITATIONS} of {before} for brevity.".strip()
        nulls = sorted(key for key, value in body.items() if value is None) if isinstance(body, dict) else []
        if nulls:  # FastAPI leaves nulls out of the examples it shows (fastapi/fastapi#5559)
            sent = ", ".join(f"`{key}: null`" for key in nulls)
            description = f"{description} The docs leave out null fields: the API sends {sent}.".strip()
        example: dict[str, Any] = {"summary": summary}
        if description:
            example["description"] = description
        example["value"] = body
        self.responses.setdefault(operation, {}).setdefault(str(expect), {}).setdefault(media_type, {})[name] = example
        return body


def record_all(corpus: Path, index: Path) -> dict[str, Any]:
    """Every response example, from apps serving copies of `corpus` and `index`."""
    import shutil
    import tempfile
    import threading
    import time

    from fastapi.testclient import TestClient

    from rag.api.app import create_app
    from rag.settings import load_settings

    key = "example-key"
    with tempfile.TemporaryDirectory(prefix="rag-examples-", ignore_cleanup_errors=True) as scratch:
        work = Path(scratch)
        shutil.copytree(corpus, work / "corpus")
        if index.is_dir():
            shutil.copytree(index, work / "index", ignore=shutil.ignore_patterns(".lock", ".rag-*"))
        settings = load_settings(corpus=work / "corpus", index=work / "index", api_key=key, protect_reads=False, access_log=False, llm_base_url="", rate_limit=0)
        recorder = Recorder()

        def ready(client: Any) -> None:
            deadline = time.monotonic() + 900  # a first build embeds the whole corpus
            while (status := client.get("/readyz")).status_code != 200:
                if time.monotonic() > deadline or status.json()["status"] == "failed":
                    raise SystemExit(f"the index did not load: {status.json()}")
                time.sleep(0.05)

        with TestClient(create_app(settings)) as recorder.client:
            ready(recorder.client)
            record_questions(recorder)
            record_documents(recorder, key)

        released = threading.Event()

        def still_loading() -> Any:
            released.wait(60)
            raise RuntimeError("examples recorded")

        with TestClient(create_app(settings, load=still_loading)) as recorder.client:
            recorder.record("readyz", "loading", "Still loading", "GET", "/readyz", 503, "Right after start-up, before the model and index are loaded.")
            recorder.record("ask", "loading", "Index still loading", "POST", "/v1/ask", 503, json=ASK["english"]["value"])
            released.set()
        with TestClient(create_app(settings.with_overrides(protect_reads=True))) as recorder.client:
            ready(recorder.client)  # the load finished: nothing still reads the folders when they are removed
            recorder.record("list_documents", "no_key", "Reads protected, no key", "GET", "/v1/documents", 401, "With `RAG_PROTECT_READS=1` every /v1 endpoint needs the key.")
    return {"passage": passage_span(recorder.responses), "responses": recorder.responses}


def passage_span(responses: dict[str, Any]) -> dict[str, Any]:
    """Where the first citation of the `PASSAGE_FROM` answer example stands: what the passage examples open."""
    operation, name = PASSAGE_FROM
    cited = responses[operation]["200"]["application/json"][name]["value"]["citations"][0]
    return {"doc_id": cited["doc_id"], "start": cited["start"], "end": cited["end"]}


def record_questions(recorder: Recorder) -> None:
    """Questions, searches, passages and health, over the corpus as it is (before any write)."""
    for name, example in ASK.items():
        body = example["value"]
        recorder.record("ask", name, example.get("summary") or name, "POST", "/v1/ask", 200, example.get("description") or "", trim=True, json=body)
    recorder.record("ask", "empty_question", "Empty question", "POST", "/v1/ask", 422, json={"question": " "})
    for name, example in CHAT.items():
        chat_body = example["value"]
        recorder.record("chat_completions", name, example.get("summary") or name, "POST", "/v1/chat/completions", 200, example.get("description") or "", trim=True, json=chat_body)
    recorder.record("chat_completions", "no_user_message", "No user message", "POST", "/v1/chat/completions", 422, json={"messages": [{"role": "system", "content": "be brief"}]})
    for name, q in SEARCH_Q.items():
        recorder.record("search", name, q.get("summary") or name, "GET", "/v1/search", 200, f"`GET /v1/search?q={q['value']}&k={SEARCH_SHOWN_K}`", params={"q": q["value"], "k": SEARCH_SHOWN_K})
    recorder.record("search", "empty_query", "Empty query", "GET", "/v1/search", 422, params={"q": ""})
    span = passage_span(recorder.responses)
    question = value_of(ASK[PASSAGE_FROM[1]])["question"]
    for name, label in (("simplified", "Simplified characters"), ("traditional", "Traditional characters")):
        script, context = PASSAGE_SCRIPT[name]["value"], PASSAGE_CONTEXT["short"]["value"]
        description = f"The first citation of “{question}”, with {context} characters either side, in {label} (`script={script}`)."
        recorder.record("passage", name, label, "GET", "/v1/passage", 200, description, params={**span, "script": script, "context": context})
    recorder.record("passage", "unknown_document", "Unknown document", "GET", "/v1/passage", 404, params={"doc_id": "missing.txt", "start": 0, "end": 5})
    recorder.record("passage", "bad_span", "Span outside the document", "GET", "/v1/passage", 422, params={**span, "end": 10**9})
    recorder.record("healthz", "ok", "Alive", "GET", "/healthz", 200)
    recorder.record("readyz", "ready", "Ready", "GET", "/readyz", 200, "Serving: the counts of the index, and the corpus files not indexed, if any.")
    recorder.record("list_documents", "corpus", "The repository's corpus", "GET", "/v1/documents", 200)


def record_documents(recorder: Recorder, key: str) -> None:
    """Adding, replacing and deleting documents, after every question (they change the answers)."""
    auth = {"X-API-Key": key}
    for name, example in DOCUMENTS.items():
        recorder.record("add_document", name, f"Added: {example.get('summary')}", "POST", "/v1/documents", 201, json=example["value"], headers=auth)
    chinese = value_of(DOCUMENTS["chinese"])
    recorder.record("add_document", "replaced", "Replaced", "POST", "/v1/documents", 200, "The same id sent again: the document is replaced.", json=chinese, headers=auth)
    recorder.record("add_document", "no_key", "No API key", "POST", "/v1/documents", 401, json=chinese)
    recorder.record("add_document", "bad_id", "Bad document id", "POST", "/v1/documents", 422, json={"id": "ｅｖｉｌ.txt", "text": "hello"}, headers=auth)
    for name, example in DOCUMENTS.items():
        doc_id = value_of(example)["id"]
        recorder.record("delete_document", name, f"Deleted {doc_id}", "DELETE", f"/v1/documents/{doc_id}", 200, headers=auth)
    recorder.record("delete_document", "unknown_document", "Unknown document", "DELETE", "/v1/documents/missing.txt", 404, headers=auth)
    recorder.record("delete_document", "no_key", "No API key", "DELETE", f"/v1/documents/{chinese['id']}", 401)


VOLATILE = {"timings_ms", "id", "created"}  # differ from run to run: not compared by --check


def stable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: stable(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [stable(v) for v in value]
    if isinstance(value, str) and value.startswith("data: "):
        return [stable(json.loads(line[6:])) for line in value.split("\n") if line.startswith("data: {")]
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rag.api.record_examples", description="Record the API's response examples (rag/api/examples.json) from the engine.")
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--write", action="store_true", help="regenerate examples.json")
    action.add_argument("--check", action="store_true", help="exit 1 if examples.json is not what the API answers now (timings and ids aside)")
    parser.add_argument("--corpus", type=Path, help="corpus folder (default: RAG_CORPUS or ./corpus)")
    parser.add_argument("--index", type=Path, help="its index, copied, never written (default: RAG_INDEX or ./index)")
    args = parser.parse_args(argv)
    from rag.settings import load_settings

    settings = load_settings(**{k: v for k, v in {"corpus": args.corpus, "index": args.index}.items() if v is not None})
    recorded = record_all(settings.corpus, settings.index)
    path = Path(str(files("rag.api").joinpath(EXAMPLES_FILE)))
    if args.check:
        same = stable(recorded) == stable(load())
        print(f"{path}: {'up to date' if same else 'stale: run python -m rag.api.record_examples --write'}")
        return 0 if same else 1
    path.write_text(json.dumps(recorded, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
