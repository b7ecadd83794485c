"""Bad input on the command line: one clear line on stderr, a non-zero exit, never a traceback.

These run `rag` in a subprocess and fail before any model is loaded, so they stay fast."""

import os
import subprocess
import sys
import tempfile

import pytest


def rag(*args, cwd=None, stdin=None):
    """Runs with an empty cache, as on a fresh machine: errors must come before model provisioning."""
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "RAG_CACHE_DIR": cache}
        return subprocess.run([sys.executable, "-m", "rag", *args], capture_output=True, text=True, cwd=cwd, input=stdin, env=env, timeout=120)


def assert_clean_error(result, needle):
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert needle in lines[0]


def test_missing_corpus(tmp_path):
    assert_clean_error(rag("ask", "问题", "--corpus", str(tmp_path / "nope"), "--index", str(tmp_path / "i")), "corpus folder not found")


def test_empty_corpus(tmp_path):
    (tmp_path / "c").mkdir()
    assert_clean_error(rag("search", "问题", "--corpus", str(tmp_path / "c"), "--index", str(tmp_path / "i")), "no .txt or .md files")


def test_corpus_of_empty_files(tmp_path):
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "a.txt").write_text("  \n")
    assert_clean_error(rag("index", "--corpus", str(tmp_path / "c"), "--index", str(tmp_path / "i")), "no readable, non-empty files")


def test_undecodable_file(tmp_path):
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "bad.txt").write_bytes(b"\xff\xfe\xfa\x00\x81")
    result = rag("index", "--corpus", str(tmp_path / "c"), "--index", str(tmp_path / "i"))
    assert result.returncode != 0 and "Traceback" not in result.stderr
    skipped, error = result.stderr.strip().splitlines()
    assert "bad.txt" in skipped and "no readable, non-empty files" in error


@pytest.mark.parametrize("command", ["ask", "search"])
def test_empty_question(command, tmp_path):
    assert_clean_error(rag(command, "   ", "--index", str(tmp_path / "i")), "empty")


def test_bad_model_folder(tmp_path):
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "a.txt").write_text("湖南。")
    result = rag("index", "--corpus", str(tmp_path / "c"), "--index", str(tmp_path / "i"), "--model", str(tmp_path))
    assert_clean_error(result, "not a sentence-transformers directory")


def test_unknown_command_is_a_usage_error():
    result = rag("frobnicate")
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_serve_refuses_a_missing_corpus_before_starting(tmp_path):
    assert_clean_error(rag("serve", "--corpus", str(tmp_path / "nope")), "corpus folder not found")


def test_serve_refuses_a_bad_port(tmp_path):
    assert_clean_error(rag("serve", "--port", "70000"), "port must be a whole number from 1 to 65535 (got '70000')")


def test_serve_refuses_a_missing_model_folder(tmp_path):
    assert_clean_error(rag("serve", "--model", str(tmp_path / "no-model")), "model")


@pytest.mark.parametrize("k", ["0", "51", "-3", "abc", "2.5"])
@pytest.mark.parametrize("command", ["ask", "search"])
def test_k_must_be_a_whole_number_in_range(command, k, tmp_path):
    """One line saying what to type, not argparse's usage dump and "invalid int value"."""
    result = rag(command, "长沙", "-k", k, "--index", str(tmp_path / "i"))
    assert_clean_error(result, f"rag: error: k must be a whole number from 1 to 50 (got '{k}')")
    assert result.returncode == 2


@pytest.mark.parametrize(
    "variable, value, message",
    [
        ("RAG_CHUNK_SIZE", "many", "chunk_size (RAG_CHUNK_SIZE) must be a whole number (got 'many')"),
        ("RAG_CHUNK_SIZE", "5", "chunk_size (RAG_CHUNK_SIZE) must be at least 20 (got 5)"),
        ("RAG_FUSION", "max", "fusion (RAG_FUSION) must be 'rrf' or 'weighted' (got 'max')"),
        ("RAG_PROTECT_READS", "maybe", "protect_reads (RAG_PROTECT_READS) must be true or false (got 'maybe')"),
        ("RAG_LLM_TIMEOUT", "-1", "llm_timeout (RAG_LLM_TIMEOUT) must be more than 0 (got -1)"),
        ("RAG_CHUNK_OVERLAP", "500", "chunk_overlap (RAG_CHUNK_OVERLAP, 500) must be smaller than chunk_size (RAG_CHUNK_SIZE, 200)"),
    ],
)
def test_a_bad_environment_value_is_one_line_for_people(variable, value, message, tmp_path, monkeypatch):
    monkeypatch.setenv(variable, value)
    result = rag("ask", "长沙", "--corpus", str(tmp_path / "c"), "--index", str(tmp_path / "i"))
    assert_clean_error(result, f"rag: error: bad setting: {message}")
    assert_no_pydantic_wording(result.stderr)


def assert_no_pydantic_wording(text):
    for words in ("Input should", "Value error", "validation error", "pydantic", "body.", "query."):
        assert words not in text, text


def test_a_reader_that_goes_away_ends_the_command_quietly(monkeypatch, capsys):
    """`rag ask ... | head -1`: no "Broken pipe" error line, the exit status a shell gives for SIGPIPE."""
    from rag import cli

    def closed_pipe(args):
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(cli, "run_search", closed_pipe)
    assert cli.main(["search", "问题"]) == 141
    assert capsys.readouterr().err == ""
