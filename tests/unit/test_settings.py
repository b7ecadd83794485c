"""One settings object: defaults, the environment, overrides; string options are enums checked
on input, and a bad value is an error that names the setting."""

from pathlib import Path

import pytest

from rag.settings import DenseIndexKind, Fusion, Settings, Tokenizer, load_settings, parse_overrides


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in ("RAG_CORPUS", "RAG_INDEX", "RAG_MODEL", "RAG_FUSION", "RAG_CHUNK_SIZE", "RAG_API_KEY", "RAG_PROTECT_READS", "RAG_LLM_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


def test_the_environment_then_explicit_overrides(monkeypatch):
    monkeypatch.setenv("RAG_CORPUS", "/data/news")
    monkeypatch.setenv("RAG_CHUNK_SIZE", "150")
    settings = load_settings()
    assert settings.corpus == Path("/data/news") and settings.chunk_size == 150 and settings.index == Path("index")
    assert load_settings(chunk_size=180, corpus=None).chunk_size == 180  # None: not given on the command line
    assert load_settings(corpus=Path("here")).corpus == Path("here")


def test_string_options_are_enums_checked_on_input(monkeypatch):
    assert load_settings(**parse_overrides(["fusion=weighted", "tokenizer=jieba", "dense_index=hnsw"])).fusion is Fusion.WEIGHTED
    assert Settings().tokenizer is Tokenizer.BIGRAM and Settings().dense_index is DenseIndexKind.AUTO
    with pytest.raises(ValueError, match=r"fusion \(RAG_FUSION\).*'rrf' or 'weighted'"):
        load_settings(fusion="sum")
    monkeypatch.setenv("RAG_FUSION", "max")
    with pytest.raises(ValueError, match="RAG_FUSION"):
        load_settings()


@pytest.mark.parametrize(
    "values, words",
    [
        ({"chunk_size": "many"}, "chunk_size"),
        ({"chunk_overlap": 300}, "chunk_overlap (RAG_CHUNK_OVERLAP, 300) must be smaller than chunk_size"),
        ({"k": 0}, "k (RAG_K)"),
        ({"protect_reads": True}, "RAG_PROTECT_READS needs RAG_API_KEY"),
    ],
)
def test_bad_values_name_the_setting(values, words):
    with pytest.raises(ValueError, match=words.replace("(", r"\(").replace(")", r"\)")):
        load_settings(**values)


def test_unknown_overrides_are_refused():
    with pytest.raises(ValueError, match="unknown setting 'chunksize'"):
        parse_overrides(["chunksize=100"])
    with pytest.raises(ValueError, match="unknown setting"):
        parse_overrides(["chunk_size"])


def test_the_index_key_follows_what_an_index_is_built_with():
    base = Settings()
    assert base.with_overrides(chunk_size=150).index_key() != base.index_key()
    assert base.with_overrides(hnsw_m=16).index_key() != base.index_key()
    assert base.with_overrides(lexical_weight=1.0, hnsw_ef_search=64, k=3).index_key() == base.index_key()  # query time only


def test_secrets_and_paths_stay_out_of_manifests_and_reports():
    values = Settings(api_key="s3cret", llm_api_key="t0ken").as_dict()
    assert "api_key" not in values and "llm_api_key" not in values and "corpus" not in values
    assert values["fusion"] == "weighted" and values["chunk_size"] == 200


def test_llm_and_access_views(monkeypatch):
    assert Settings().llm is None
    monkeypatch.setenv("RAG_LLM_BASE_URL", " http://localhost:11434/v1/ ")
    assert load_settings().llm.base_url == "http://localhost:11434/v1"
    assert load_settings(api_key="k", protect_reads=True).access.protect_reads


def test_settings_travel_to_a_child_process_through_the_environment(monkeypatch):
    settings = load_settings(chunk_size=150, fusion="weighted", translate_queries=False, corpus=Path("/data/news"), api_key="k")
    for name, value in settings.as_environment().items():
        monkeypatch.setenv(name, value)
    assert load_settings() == settings


@pytest.mark.parametrize(
    "values, message",
    [
        ({"chunk_size": "many"}, "bad setting: chunk_size (RAG_CHUNK_SIZE) must be a whole number (got 'many')"),
        ({"bm25_b": "2"}, "bad setting: bm25_b (RAG_BM25_B) must be at most 1 (got 2)"),
        ({"query_map": "perhaps"}, "bad setting: query_map (RAG_QUERY_MAP) must be true or false (got 'perhaps')"),
        ({"chunk_overlap": 300}, "bad setting: chunk_overlap (RAG_CHUNK_OVERLAP, 300) must be smaller than chunk_size (RAG_CHUNK_SIZE, 200): lower the overlap or raise the size"),
        ({"k": 0, "fusion": "sum"}, "bad settings: fusion (RAG_FUSION) must be 'rrf' or 'weighted' (got 'sum'); k (RAG_K) must be at least 1 (got 0)"),
    ],
)
def test_bad_values_read_as_written_for_people(values, message):
    """One line that says what is wrong and what a value must be: no pydantic wording."""
    with pytest.raises(ValueError) as raised:
        load_settings(**values)
    assert str(raised.value) == message
