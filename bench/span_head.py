"""Does a small neural span head pick the short answer inside a sentence better than the linear
span model? Measures, on the public sets' dev splits, given the gold sentence (the sentence of the
gold document holding the first gold answer), the character F1 (CMRC metric) of the answer picked
by each reader, per set and per question language (Chinese questions and their English versions).

    python bench/span_head.py [--minutes 15] [--linear-model rag/answering/reader.npz] [--max-pairs N] [--max-dev N]

Readers compared on the same gold sentences:
- neural: a cross-encoder over (question, sentence) pairs (the bundled multilingual-e5-small, max 128
  tokens, sentence truncated) with a linear start/end head on the token states; the top 2 encoder
  layers and the head fine-tuned on the train splits (torch, seed 0, 1 thread, batch 16, AdamW lr
  1e-4, head 1e-3, 1 epoch, cross-entropy on the gold start/end token), training stopped after
  `--minutes` of wall time whatever the progress. Decoding: best start <= end, at most 30 tokens.
- linear: the project's linear span model (rag/answering/reader.npz, or `--linear-model`, as
  written by train/reader.py) over span_candidates; left out when the file is missing.
- sentence: the whole sentence as the answer (baseline).
Also reported: training time, peak RSS, train pairs used, trainable parameters, and per-sentence
inference latency (median over 200 dev sentences, 1 thread). Writes bench/results/span_head.json.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import json
import resource
import time
from pathlib import Path

import numpy as np
import torch

from rag.answering.features import AskedFor, span_candidates
from rag.answering.reader import SHIPPED, ReaderModels, span_rows
from rag.embedding.model import Embedder
from rag.engine import Engine
from rag.evaluation.metrics import fold, span_f1
from rag.ingest.chunking import sentence_spans
from rag.ingest.normalize import search_form
from rag.settings import load_settings

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "eval" / "public" / "build"
RESULTS = ROOT / "bench" / "results"
SETS = ("cmrc", "drcd")
MAX_TOKENS, MAX_ANSWER_TOKENS, BATCH = 128, 30, 16


def gold_pairs(name: str, split: str) -> tuple[list[dict], int]:
    """Answerable questions of a split with their gold sentence (search form) and the first gold
    answer's [start, end) in it; and how many were skipped (answer in no single sentence)."""
    texts: dict[str, list[str]] = {}
    out, skipped = [], 0
    for line in (BUILD / name / f"{split}.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if not row["answerable"] or not row["answers"]:
            continue
        if row["doc"] not in texts:
            text = search_form((BUILD / name / "corpus" / row["doc"]).read_text(encoding="utf-8")).text
            texts[row["doc"]] = [text[a:b] for a, b in sentence_spans(text)]
        answer = fold(row["answers"][0])
        sentence = next((s for s in texts[row["doc"]] if answer in fold(s)), None)
        if sentence is None:
            skipped += 1
            continue
        out.append({"set": name, "zh": row["lang"] != "en", "question": row["question"], "answers": row["answers"], "sentence": sentence, "span": locate(sentence, answer)})
    return out, skipped


def locate(sentence: str, folded_answer: str) -> tuple[int, int] | None:
    """[start, end) in `sentence` of the answer, matched character by character on folded text."""
    chars, index = [], []
    for i, ch in enumerate(sentence):
        for f in fold(ch):
            chars.append(f)
            index.append(i)
    at = "".join(chars).find(folded_answer)
    return None if at < 0 or not folded_answer else (index[at], index[at + len(folded_answer) - 1] + 1)


def linear_predictions(pairs: list[dict], path: Path) -> list[str]:
    """The linear span model's best candidate span of each gold sentence."""
    model = ReaderModels.load(path).span
    engines = {name: Engine.open(load_settings(corpus=BUILD / name / "corpus", index=BUILD / name / "index")) for name in SETS}
    out = []
    for p in pairs:
        question = engines[p["set"]].analyse(p["question"])
        spans = span_candidates(p["sentence"])
        if not spans:
            out.append(p["sentence"])
            continue
        start, end = spans[int(np.argmax(model.scores(span_rows(p["sentence"], question, AskedFor.of(question), spans))))][:2]
        out.append(p["sentence"][start:end])
    return out


class Reader(torch.nn.Module):
    def __init__(self, encoder):
        super().__init__()
        self.encoder = encoder
        self.head = torch.nn.Linear(encoder.config.hidden_size, 2)

    def forward(self, input_ids, attention_mask):
        states = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        start, end = self.head(states).unbind(-1)
        return start, end


def encode(tokenizer, pairs: list[dict]):
    return tokenizer([p["question"] for p in pairs], [p["sentence"] for p in pairs], truncation="only_second", max_length=MAX_TOKENS,
                     padding=True, return_offsets_mapping=True, return_tensors="pt")


def targets(enc, pairs: list[dict]) -> list[tuple[int, int] | None]:
    """Gold start/end token of each pair (None when the answer is truncated away or unlocated)."""
    out = []
    for i, p in enumerate(pairs):
        seq, offsets = enc.sequence_ids(i), enc["offset_mapping"][i].tolist()
        tokens = [t for t, s in enumerate(seq) if s == 1]
        if p["span"] is None:
            out.append(None)
            continue
        a, b = p["span"]
        starts = [t for t in tokens if offsets[t][1] > a]
        ends = [t for t in tokens if offsets[t][0] < b]
        out.append((starts[0], ends[-1]) if starts and ends and starts[0] <= ends[-1] and offsets[ends[-1]][1] >= b else None)
    return out


def train(reader: Reader, tokenizer, pairs: list[dict], minutes: float) -> dict:
    torch.manual_seed(0)
    for p in reader.encoder.parameters():
        p.requires_grad = False
    layers = [p for layer in reader.encoder.encoder.layer[-2:] for p in layer.parameters()]
    for p in layers:
        p.requires_grad = True
    optimiser = torch.optim.AdamW([{"params": layers, "lr": 1e-4}, {"params": reader.head.parameters(), "lr": 1e-3}])
    trainable = sum(p.numel() for p in reader.parameters() if p.requires_grad)
    order = torch.randperm(len(pairs)).tolist()
    reader.train()
    started, used, unusable, stopped = time.perf_counter(), 0, 0, False
    for at in range(0, len(order), BATCH):
        if time.perf_counter() - started > minutes * 60:
            stopped = True
            break
        batch = [pairs[i] for i in order[at : at + BATCH]]
        enc = encode(tokenizer, batch)
        gold = targets(enc, batch)
        keep = [i for i, g in enumerate(gold) if g is not None]
        unusable += len(batch) - len(keep)
        if not keep:
            continue
        start, end = reader(enc["input_ids"][keep], enc["attention_mask"][keep])
        g = torch.tensor([gold[i] for i in keep])
        loss = (torch.nn.functional.cross_entropy(start, g[:, 0]) + torch.nn.functional.cross_entropy(end, g[:, 1])) / 2
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        used += len(keep)
    reader.eval()
    return {"train_s": time.perf_counter() - started, "stopped_by_time_limit": stopped, "train_pairs_available": len(pairs),
            "train_pairs_used": used, "train_pairs_unusable": unusable, "trainable_params": trainable, "trainable_mb_fp32": trainable * 4 / 2**20}


@torch.no_grad()
def predict(reader: Reader, tokenizer, pairs: list[dict], batch: int = 64) -> list[str]:
    out = []
    for at in range(0, len(pairs), batch):
        chunk = pairs[at : at + batch]
        enc = encode(tokenizer, chunk)
        start, end = reader(enc["input_ids"], enc["attention_mask"])
        for i, p in enumerate(chunk):
            tokens = torch.tensor([s == 1 for s in enc.sequence_ids(i)])
            s, e = start[i].masked_fill(~tokens, -1e9), end[i].masked_fill(~tokens, -1e9)
            scores = s[:, None] + e[None, :]
            n = len(s)
            allowed = torch.triu(torch.ones(n, n, dtype=torch.bool)) & ~torch.triu(torch.ones(n, n, dtype=torch.bool), MAX_ANSWER_TOKENS)
            best = int(scores.masked_fill(~allowed, -1e18).argmax())
            offsets = enc["offset_mapping"][i]
            out.append(p["sentence"][int(offsets[best // n][0]) : int(offsets[best % n][1])].strip())
    return out


def scores(pairs: list[dict], predictions: dict[str, list[str]]) -> dict:
    """Mean F1 of each reader per set and language, and overall."""
    groups = {f"{name}/{lang}": [i for i, p in enumerate(pairs) if p["set"] == name and p["zh"] == (lang == "zh")] for name in SETS for lang in ("zh", "en")}
    groups |= {"all/zh": [i for i, p in enumerate(pairs) if p["zh"]], "all/en": [i for i, p in enumerate(pairs) if not p["zh"]], "all": list(range(len(pairs)))}
    f1 = {k: [span_f1(v, p["answers"]) for v, p in zip(values, pairs)] for k, values in predictions.items()}
    return {g: {"questions": len(ix), **{k: round(float(np.mean([f1[k][i] for i in ix])), 4) if ix else None for k in f1}} for g, ix in groups.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=15.0, help="hard wall-time limit on training")
    parser.add_argument("--max-pairs", type=int, default=None, help="train on at most this many pairs (smoke test)")
    parser.add_argument("--max-dev", type=int, default=None, help="evaluate at most this many dev pairs per set (smoke test)")
    parser.add_argument("--linear-model", type=Path, default=SHIPPED, help="reader.npz holding the linear span model")
    parser.add_argument("--out", default=str(RESULTS / "span_head.json"))
    args = parser.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(1)
    results: dict = {"minutes_limit": args.minutes, "skipped_no_single_sentence": {}}
    train_pairs, dev_pairs = [], []
    for name in SETS:
        for split, into in (("train", train_pairs), ("dev", dev_pairs)):
            got, skipped = gold_pairs(name, split)
            into.extend(got if split == "train" or args.max_dev is None else got[: args.max_dev])
            results["skipped_no_single_sentence"][f"{name}/{split}"] = skipped
    train_pairs = train_pairs[: args.max_pairs]
    predictions = {"sentence": [p["sentence"] for p in dev_pairs]}
    results["linear_model"] = str(args.linear_model) if args.linear_model.exists() else None
    if results["linear_model"]:
        predictions["linear"] = linear_predictions(dev_pairs, args.linear_model)
    results["rss_before_training_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    embedder = Embedder.of(load_settings())
    tokenizer, reader = embedder.model.tokenizer, Reader(embedder.model[0].auto_model)
    results |= train(reader, tokenizer, train_pairs, args.minutes)
    results["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    predictions["neural"] = predict(reader, tokenizer, dev_pairs)
    results["f1"] = scores(dev_pairs, predictions)
    timings = []
    for p in dev_pairs[:: max(1, len(dev_pairs) // 200)][:200]:
        t = time.perf_counter()
        predict(reader, tokenizer, [p])
        timings.append((time.perf_counter() - t) * 1000)
    results["neural_ms_per_sentence_p50"] = round(float(np.median(timings)), 2)
    results["examples"] = [{"question": p["question"], "gold": p["answers"][0], **{k: v[i] for k, v in predictions.items() if k != "sentence"}}
                           for i, p in list(enumerate(dev_pairs))[:: max(1, len(dev_pairs) // 6)][:6]]
    Path(args.out).parent.mkdir(exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
