"""Regenerates rag/answering/reader.npz, the learned reader (span, sentence and answer/abstain
models), from the public sets' train splits (eval/public/), Chinese questions and their English
versions alike.

    python train/reader.py [--out rag/answering/reader.npz]

Each question is analysed and searched as `rag ask` would (the public indexes are built when
missing), and the reader's features are read off the top passages. Unanswerable examples are the
same questions asked of the corpus without their paragraph (its hits dropped). The three models
are L2-regularised linear models fitted in order (the sentence model reads the span model's
scores, the decision reads both) by L-BFGS from zero: deterministic, so no seed to fix, and a
rerun writes the same weights. Prints the time and peak memory, and the dev splits' figures.
"""

from __future__ import annotations

import argparse
import json
import pickle
import resource
import runpy
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse
from scipy.optimize import minimize

from rag.analysis.question import Question
from rag.answering.abstention import gather_evidence
from rag.answering.features import AskedFor, question_marks, span_candidates
from rag.answering.reader import (
    SHIPPED,
    Linear,
    QuestionSignals,
    ReaderModels,
    SentenceCandidate,
    choose,
    decision_features,
    passage_sentences,
    sentence_candidates,
    sentence_rows,
    softmax,
    span_rows,
)
from rag.checksums import data_checksum
from rag.engine import Engine
from rag.evaluation.metrics import fold, span_f1
from rag.search.retriever import Hit
from rag.settings import load_settings

ROOT = Path(__file__).resolve().parents[1]
PUBLIC = ROOT / "eval" / "public"
SETS = ("cmrc", "drcd")
SEARCH_DEPTH = 30  # hits fetched, so that ten remain when a question's own paragraph is dropped
L2 = {"span": 1e-3, "sentence": 1e-3, "decision": 1e-3}
MIN_SPAN_F1 = 0.3  # a span target must overlap the gold answer at least this much


@dataclass
class Example:
    """One question as the reader saw it, with what it should have found."""

    english: bool
    answers: list[str]
    answerable: bool  # False: asked of the corpus without its paragraph
    signals: QuestionSignals
    candidates: list[SentenceCandidate]

    def gold_sentences(self) -> list[int]:
        return [i for i, c in enumerate(self.candidates) if holds(c.text, self.answers)]


def holds(text: str, answers: list[str]) -> bool:
    return any(fold(a) in fold(text) for a in answers)


def training_data() -> list[Path]:
    return [PUBLIC / "translations.en.tsv", *sorted((PUBLIC / "source").glob("*.json"))]


@dataclass
class Searched:
    """One question analysed and searched as `rag ask` would: the slow part, kept between runs."""

    question: Question
    hits: list[Hit]
    answers: list[str]
    doc: str


def searched(name: str, split: str, cache: Path) -> tuple[Engine, list[Searched]]:
    """The public set's engine (its index built when missing) and every question of one split searched."""
    here = PUBLIC / "build" / name
    engine = Engine.open(load_settings(corpus=here / "corpus", index=here / "index"))
    path = cache / f"{name}-{split}.pkl"
    if path.exists():
        return engine, pickle.loads(path.read_bytes())
    out = []
    for line in (here / f"{split}.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        question = engine.analyse(row["question"])
        out.append(Searched(question, engine.retriever.search(question, SEARCH_DEPTH), row["answers"], row["doc"]))
    cache.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(out))
    return engine, out


def span_groups(sets: list[tuple[Engine, list[Searched]]]) -> list[tuple[sparse.csr_matrix, list[int]]]:
    """For each gold sentence among an answerable question's candidates: its spans' features and
    the span closest to the gold answer (when one is close enough)."""
    groups = []
    for engine, rows in sets:
        chunks = engine.settings.answer_chunks
        for row in rows:
            for sentence in passage_sentences(engine.index, row.hits[:chunks]):
                text = engine.index.sentence_text(sentence)
                spans = span_candidates(text) if holds(text, row.answers) else []
                f1 = [span_f1(text[a:b], row.answers) for a, b, *_ in spans]
                if f1 and max(f1) >= MIN_SPAN_F1:
                    rows = span_rows(text, question_marks(text, row.question), AskedFor.of(row.question), not row.question.chinese, spans)
                    groups.append((sparse.csr_matrix(rows), [int(np.argmax(f1))]))
    return groups


def examples(sets: list[tuple[Engine, list[Searched]]], span_model: Linear) -> list[Example]:
    """Every question as the reader sees it: answerable, and asked of the corpus without its paragraph."""
    out = []
    for engine, rows in sets:
        depth, chunks = engine.settings.evidence_depth, engine.settings.answer_chunks
        background = engine.extractor.background
        for row in rows:
            for answerable in (True, False):
                hits = row.hits if answerable else [h for h in row.hits if engine.index.chunks[h.chunk].doc_id != row.doc]
                hits = hits[:depth]
                evidence = gather_evidence(row.question, max(h.dense for h in hits), background, engine.index.chunks[hits[0].chunk].search_text)
                candidates = sentence_candidates(engine.index, row.question, hits[:chunks], span_model)
                out.append(Example(not row.question.chinese, row.answers, answerable, QuestionSignals.of(row.question, evidence), candidates))
    return out


def standardiser(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    scale = rows.std(axis=0)
    return rows.mean(axis=0), np.where(scale > 1e-9, scale, 1.0)


def fit_softmax(groups: list[tuple[Any, list[int]]], l2: float) -> Linear:
    """Weights maximising the probability each group's softmax gives its target rows (any of them
    will do: a short answer may stand in several sentences). Sparse groups (span features, all in
    [0, 1] and mostly zero) are fitted as they are, dense ones standardised."""
    if sparse.issparse(groups[0][0]):
        x = sparse.vstack([g for g, _ in groups]).tocsr()
        mean, scale = np.zeros(x.shape[1]), np.ones(x.shape[1])
    else:
        rows = np.vstack([g for g, _ in groups]).astype(np.float64)
        mean, scale = standardiser(rows)
        x = (rows - mean) / scale
    sizes = np.array([g.shape[0] for g, _ in groups])
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    group_of = np.repeat(np.arange(len(groups)), sizes)
    target = np.zeros(x.shape[0], dtype=bool)
    target[np.concatenate([start + np.asarray(t) for start, (_, t) in zip(starts, groups)])] = True

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        z = x @ w
        e = np.exp(z - np.maximum.reduceat(z, starts)[group_of])
        p = e / np.add.reduceat(e, starts)[group_of]
        hit = np.add.reduceat(np.where(target, p, 0.0), starts)  # each group's probability of a target
        value = -np.mean(np.log(hit + 1e-12)) + l2 * w @ w
        q = np.where(target, p / hit[group_of], 0.0)  # the targets' share of that probability
        return value, x.T @ (p - q) / len(groups) + 2 * l2 * w

    w = minimize(loss, np.zeros(x.shape[1]), jac=True, method="L-BFGS-B", options={"maxiter": 500}).x
    return Linear(w, mean, scale)


def fit_logistic(rows: np.ndarray, labels: np.ndarray, l2: float) -> Linear:
    """Logistic regression, each class weighted to half the total (the sets' balance is ours to choose)."""
    mean, scale = standardiser(rows)
    x = np.hstack([(rows - mean) / scale, np.ones((len(rows), 1))])
    weight = np.where(labels, 0.5 / labels.mean(), 0.5 / (1 - labels.mean())) / len(rows)

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        z = x @ w
        p = 1 / (1 + np.exp(-z))
        value = -np.sum(weight * (labels * np.log(p + 1e-12) + (1 - labels) * np.log(1 - p + 1e-12))) + l2 * w[:-1] @ w[:-1]
        grad = x.T @ (weight * (p - labels))
        grad[:-1] += 2 * l2 * w[:-1]
        return value, grad

    w = minimize(loss, np.zeros(x.shape[1]), jac=True, method="L-BFGS-B", options={"maxiter": 1000}).x
    return Linear(w[:-1], mean, scale, float(w[-1]))


def sentence_groups(examples: list[Example]) -> list[tuple[np.ndarray, list[int]]]:
    """Each answerable question's candidate sentences, the targets being those holding the answer."""
    groups = []
    for ex in examples:
        gold = ex.gold_sentences() if ex.answerable else []
        if gold and len(ex.candidates) > 1:
            groups.append((sentence_rows(ex.candidates, ex.english), gold))
    return groups


def decision_data(examples: list[Example], sentence: Linear) -> tuple[np.ndarray, np.ndarray]:
    rows, labels = [], []
    for ex in examples:
        if ex.candidates:
            sentences = sentence_rows(ex.candidates, ex.english)
            logits = sentence.scores(sentences)
            best = int(np.argmax(logits))
            scores = ex.candidates[best].span_scores
            span_probability = float(softmax(scores).max()) if len(scores) else 0.0
            rows.append(decision_features(ex.signals, logits, sentences[best], span_probability))
            labels.append(ex.answerable)
    return np.asarray(rows), np.asarray(labels, dtype=float)


def fit(train: list[tuple[Engine, list[Searched]]], about: dict) -> ReaderModels:
    span = fit_softmax(span_groups(train), L2["span"])
    seen = examples(train, span)
    sentence = fit_softmax(sentence_groups(seen), L2["sentence"])
    decision = fit_logistic(*decision_data(seen, sentence), L2["decision"])
    return ReaderModels(span, sentence, decision, about)


def report(examples: list[Example], models: ReaderModels) -> dict[str, float]:
    """Dev figures per language: the chosen sentence holds the gold answer, the span's F1, and how
    often the decision answers the answerable and declines the paragraph-less questions."""
    out: dict[str, float] = {}
    for english, lang in ((False, "zh"), (True, "en")):
        chosen = [ex for ex in examples if ex.english == english]
        right, f1, answered, declined = [], [], [], []
        for ex in chosen:
            if not ex.candidates:
                (answered if ex.answerable else declined).append(not ex.answerable)
                continue
            reading = choose(models, ex.signals, ex.candidates, set())  # the learned models alone, without the hand value rule
            says = reading.confidence >= 0.5  # the decision is class-balanced: 0.5 is its even odds
            if ex.answerable:
                right.append(any(fold(a) in fold(reading.sentence.text) for a in ex.answers))
                text = reading.sentence.text[slice(*reading.span)] if reading.span else reading.sentence.text
                f1.append(span_f1(text, ex.answers))
                answered.append(says)
            else:
                declined.append(not says)
        out |= {f"{lang}_sentence": float(np.mean(right)), f"{lang}_span_f1": float(np.mean(f1)), f"{lang}_answers": float(np.mean(answered)), f"{lang}_declines": float(np.mean(declined))}
    return {k: round(v, 4) for k, v in out.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=SHIPPED)
    parser.add_argument("--cache", type=Path, default=PUBLIC / "build" / "reader-features", help="where the collected features are kept between runs")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    runpy.run_path(str(PUBLIC / "build.py"), run_name="__main__") if not (PUBLIC / "build" / "cmrc" / "train.jsonl").exists() else None
    train = [searched(name, "train", args.cache) for name in SETS]
    dev = [searched(name, "dev", args.cache) for name in SETS]
    collected = time.perf_counter() - started
    about = {"data": data_checksum(training_data()), "train_questions": sum(len(rows) for _, rows in train)}
    models = fit(train, about)
    models.about["dev"] = report(examples(dev, models.span), models)
    models.save(args.out)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"features {collected:.0f} s, fit {time.perf_counter() - started - collected:.0f} s, peak {peak_mb:.0f} MB; wrote {args.out}", file=sys.stderr)
    print(json.dumps(models.about["dev"], indent=1))


if __name__ == "__main__":
    main()
